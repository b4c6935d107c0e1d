-- +goose Up
-- The machine-readable class of an event's reason (store.ReasonClass),
-- beside its text in error_reason; empty for events without one and for
-- events recorded before classes.
ALTER TABLE message_events ADD COLUMN reason_class TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE message_events DROP COLUMN reason_class;
