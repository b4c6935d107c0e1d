-- +goose Up
-- Every inbound message received, by its provider's id: a provider's
-- retry or a replayed request (a Twilio signature has no timestamp) is
-- recognised, keeps the time of its first arrival, and once done changes
-- nothing. at is the provider's time of the message, or its first
-- arrival when the provider gives none.
CREATE TABLE inbound_messages (
	provider   TEXT NOT NULL,
	message_id TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	done       BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (provider, message_id)
);

-- +goose Down
DROP TABLE inbound_messages;
