-- +goose Up
-- Device tokens: the push tokens of a contact's app installs, the push
-- channel's address. They are kept in clear, as contacts' numbers and
-- email addresses are, under the contact key; a token a provider calls
-- invalid is deleted from every contact (retired).
CREATE TABLE device_tokens (
	contact_key TEXT NOT NULL,
	token       TEXT NOT NULL,
	added_at    TEXT NOT NULL,
	PRIMARY KEY (contact_key, token)
);
CREATE INDEX device_tokens_token ON device_tokens (token);

-- +goose Down
DROP TABLE device_tokens;
