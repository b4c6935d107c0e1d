-- +goose Up
-- Messaging limits: the unique recipients of business-initiated WhatsApp
-- messages, one row each with the time it was last counted, kept about a
-- day (the rolling window); a row that every reservation writes first, so
-- that reservations wait for each other; and what Meta last said of each
-- WhatsApp Business Account's number (tier, quality events).
CREATE TABLE tier_lock (
	id         INTEGER PRIMARY KEY,
	touched_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE tier_recipients (
	contact_key TEXT PRIMARY KEY,
	at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX tier_recipients_at ON tier_recipients (at);
CREATE TABLE number_states (
	account    TEXT PRIMARY KEY,
	tier       TEXT NOT NULL,
	quality    TEXT NOT NULL,
	event      TEXT NOT NULL,
	flagged    BOOLEAN NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE number_states;
DROP TABLE tier_recipients;
DROP TABLE tier_lock;
