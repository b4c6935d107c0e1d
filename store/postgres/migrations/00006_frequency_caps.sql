-- +goose Up
-- Frequency caps: a row per contact, channel and purpose that a reservation
-- writes first, so that reservations for the same key wait for each other,
-- and one row per send a cap let through (its reservation), counted over
-- the cap's window.
CREATE TABLE frequency_keys (
	contact_key TEXT NOT NULL,
	channel     TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	touched_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (contact_key, channel, purpose)
);
CREATE TABLE frequency_reservations (
	contact_key    TEXT NOT NULL,
	channel        TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	reservation_id TEXT NOT NULL,
	at             TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (contact_key, channel, purpose, reservation_id)
);
CREATE INDEX frequency_reservations_at ON frequency_reservations (contact_key, channel, purpose, at);

-- +goose Down
DROP TABLE frequency_reservations;
DROP TABLE frequency_keys;
