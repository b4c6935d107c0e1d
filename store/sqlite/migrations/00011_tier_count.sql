-- +goose Up
-- The number of rows of tier_recipients, kept in tier_lock's row by each
-- reservation while it holds that row: a reservation no longer counts the
-- table, which holds a day of recipients (100,000 at TIER_100K).
ALTER TABLE tier_lock ADD COLUMN recipients INTEGER NOT NULL DEFAULT 0;
UPDATE tier_lock SET recipients = (SELECT COUNT(*) FROM tier_recipients);

-- +goose Down
ALTER TABLE tier_lock DROP COLUMN recipients;
