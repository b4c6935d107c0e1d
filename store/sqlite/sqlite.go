// Package sqlite is the SQLite implementation of store.Store, on
// modernc.org/sqlite (no cgo). It is the default store of `switchback dev`,
// in one file under the data directory.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store in one SQLite file.
type Store struct {
	*sqlstore.Store
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite store at path and applies its
// migrations. The file is in WAL mode so that a worker and a webhook
// server can share it. The path ":memory:" gives a private in-memory store.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, store.Options{})
}

// OpenWith is Open with the store configured by opts.
func OpenWith(ctx context.Context, path string, opts store.Options) (*Store, error) {
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
	st, err := sqlstore.Open(ctx, db, sqlstore.Dialect{Goose: goose.DialectSQLite3}, opts, migrations)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{st}, nil
}
