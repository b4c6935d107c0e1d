-- +goose Up
-- Message events by workflow id: a broadcast's progress counts the events
-- of the journeys whose ids start with the broadcast's id.
CREATE INDEX message_events_workflow ON message_events (workflow_id, status);

-- +goose Down
DROP INDEX message_events_workflow;
