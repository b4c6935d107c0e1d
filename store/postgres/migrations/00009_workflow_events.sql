-- +goose Up
-- Message events by workflow id: a broadcast's progress counts the events
-- of the journeys whose ids start with the broadcast's id, in byte order
-- (COLLATE "C", as the query compares them) whatever the database's
-- collation.
CREATE INDEX message_events_workflow ON message_events ((workflow_id COLLATE "C"), status);

-- +goose Down
DROP INDEX message_events_workflow;
