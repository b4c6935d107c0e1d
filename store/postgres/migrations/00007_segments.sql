-- +goose Up
-- Segments: a saved contact filter (kind filter), or a list of contacts
-- narrowed by one (kind list) whose members are in segment_members; and
-- the tags of contacts that filters select by.
CREATE TABLE segments (
	name       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	filter     TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE segment_members (
	segment     TEXT NOT NULL,
	contact_key TEXT NOT NULL,
	PRIMARY KEY (segment, contact_key)
);
CREATE TABLE contact_tags (
	contact_key TEXT NOT NULL,
	tag         TEXT NOT NULL,
	PRIMARY KEY (contact_key, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag, contact_key);
CREATE INDEX contacts_locale ON contacts (locale, contact_key);
CREATE INDEX contacts_time_zone ON contacts (time_zone, contact_key);

-- +goose Down
DROP INDEX contacts_time_zone;
DROP INDEX contacts_locale;
DROP TABLE contact_tags;
DROP TABLE segment_members;
DROP TABLE segments;
