-- +goose Up
-- The WhatsApp template registry: every template in every language, as
-- the last `switchback templates sync` found it, with the statuses that
-- webhooks changed since. data is the template's JSON (id, components,
-- quality, ...); the columns beside it override what it says.
CREATE TABLE templates (
	name            TEXT NOT NULL,
	language        TEXT NOT NULL,
	category        TEXT NOT NULL,
	status          TEXT NOT NULL,
	rejected_reason TEXT NOT NULL,
	data            TEXT NOT NULL,
	waba_id         TEXT NOT NULL,
	synced_at       TEXT NOT NULL,
	PRIMARY KEY (name, language)
);

-- +goose Down
DROP TABLE templates;
