-- +goose Up
-- What a status webhook needs of the attempt that sent a message, so that
-- it records a status the journey does not wait for instead of signalling
-- it: the journey, step, template and contact of the message's events,
-- the status the attempt awaits ('' signals every status, as before), and
-- whether a status reaching it was signalled already.
ALTER TABLE message_refs ADD COLUMN journey TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN step TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN contact_key TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN await TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN awaited INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE message_refs DROP COLUMN awaited;
ALTER TABLE message_refs DROP COLUMN await;
ALTER TABLE message_refs DROP COLUMN contact_key;
ALTER TABLE message_refs DROP COLUMN template;
ALTER TABLE message_refs DROP COLUMN step;
ALTER TABLE message_refs DROP COLUMN journey;
