-- +goose Up
-- message_refs predates migrations: IF NOT EXISTS keeps stores created
-- before them.
CREATE TABLE IF NOT EXISTS message_refs (
	provider    TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	workflow_id TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	channel     TEXT NOT NULL,
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (provider, message_id)
);

CREATE TABLE contacts (
	contact_key TEXT PRIMARY KEY,
	number      TEXT NOT NULL DEFAULT '',
	email       TEXT NOT NULL DEFAULT '',
	locale      TEXT NOT NULL DEFAULT '',
	time_zone   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX contacts_email ON contacts (email);

CREATE TABLE consents (
	id          INTEGER PRIMARY KEY,
	contact_key TEXT NOT NULL,
	channel     TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	granted     INTEGER NOT NULL,
	source      TEXT NOT NULL,
	at          TEXT NOT NULL
);
CREATE INDEX consents_contact ON consents (contact_key, channel, purpose, at);

CREATE TABLE suppressions (
	contact_key TEXT NOT NULL,
	channel     TEXT NOT NULL,
	reason      TEXT NOT NULL,
	source      TEXT NOT NULL,
	at          TEXT NOT NULL,
	PRIMARY KEY (contact_key, channel, reason)
);

CREATE TABLE reachability (
	contact_key TEXT NOT NULL,
	channel     TEXT NOT NULL,
	reachable   INTEGER NOT NULL,
	code        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	at          TEXT NOT NULL,
	PRIMARY KEY (contact_key, channel)
);

CREATE TABLE inbound (
	contact_key TEXT NOT NULL,
	channel     TEXT NOT NULL,
	last_at     TEXT NOT NULL,
	PRIMARY KEY (contact_key, channel)
);

CREATE TABLE message_events (
	id               INTEGER PRIMARY KEY,
	provider         TEXT NOT NULL,
	message_id       TEXT NOT NULL,
	status           TEXT NOT NULL,
	journey          TEXT NOT NULL,
	workflow_id      TEXT NOT NULL,
	step             TEXT NOT NULL,
	attempt          INTEGER NOT NULL,
	channel          TEXT NOT NULL,
	template         TEXT NOT NULL,
	contact_key      TEXT NOT NULL,
	error_code       TEXT NOT NULL,
	error_reason     TEXT NOT NULL,
	pricing_category TEXT NOT NULL,
	at               TEXT NOT NULL,
	UNIQUE (provider, message_id, status)
);
CREATE INDEX message_events_at ON message_events (at);
CREATE INDEX message_events_journey ON message_events (journey, at);
CREATE INDEX message_events_contact ON message_events (contact_key, at);

-- +goose Down
DROP TABLE message_events;
DROP TABLE inbound;
DROP TABLE reachability;
DROP TABLE suppressions;
DROP TABLE consents;
DROP TABLE contacts;
DROP TABLE message_refs;
