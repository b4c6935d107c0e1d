// Package sqlite is the SQLite implementation of store.Store, on
// modernc.org/sqlite (no cgo). It is the default store of `switchback dev`.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

const schema = `
CREATE TABLE IF NOT EXISTS message_refs (
	provider    TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	workflow_id TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	channel     TEXT NOT NULL,
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (provider, message_id)
);`

// Store is a store.Store in one SQLite file.
type Store struct {
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite store at path, in WAL mode so
// that a worker and a webhook server can share it. The path ":memory:"
// gives a private in-memory store.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := ":memory:"
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		q := url.Values{"_pragma": {"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(5000)"}}
		dsn = "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection: SQLite has one writer, and ":memory:" is per connection.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create store schema in %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// RecordMessage remembers ref. A second record of the same provider message
// keeps the first.
func (s *Store) RecordMessage(ctx context.Context, ref store.MessageRef) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO message_refs (provider, message_id, workflow_id, attempt, channel)
		 VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, message_id) DO NOTHING`,
		ref.Provider, ref.MessageID, ref.WorkflowID, ref.Attempt, string(ref.Channel))
	if err != nil {
		return fmt.Errorf("record %s message %s: %w", ref.Provider, ref.MessageID, err)
	}
	return nil
}

// LookupMessage finds the journey attempt that sent a provider's message.
func (s *Store) LookupMessage(ctx context.Context, provider, messageID string) (store.MessageRef, error) {
	ref := store.MessageRef{Provider: provider, MessageID: messageID}
	var ch string
	err := s.db.QueryRowContext(ctx,
		`SELECT workflow_id, attempt, channel FROM message_refs WHERE provider = ? AND message_id = ?`,
		provider, messageID).Scan(&ref.WorkflowID, &ref.Attempt, &ch)
	if errors.Is(err, sql.ErrNoRows) {
		return store.MessageRef{}, fmt.Errorf("look up %s message %s: %w", provider, messageID, store.ErrNotFound)
	}
	if err != nil {
		return store.MessageRef{}, fmt.Errorf("look up %s message %s: %w", provider, messageID, err)
	}
	ref.Channel = channels.Channel(ch)
	return ref, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }
