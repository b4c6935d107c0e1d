-- +goose Up
-- The event stream's outbox: one row per message event still to be POSTed
-- to SWITCHBACK_EVENTS_URL, written in the transaction that adds the event
-- and deleted once delivered. A row is due when due_at has passed; a
-- dispatcher that claims it moves due_at to the end of its lease, and
-- claims counts the claims (the backoff's exponent and the lease's token).
CREATE TABLE event_outbox (
	event_id   INTEGER PRIMARY KEY REFERENCES message_events (id) ON DELETE CASCADE,
	due_at     TEXT NOT NULL,
	claims     INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX event_outbox_due ON event_outbox (due_at, event_id);

-- +goose Down
DROP TABLE event_outbox;
