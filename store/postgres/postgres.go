// Package postgres is the PostgreSQL implementation of store.Store, on
// pgx v5 through database/sql. Select it with
// SWITCHBACK_DATABASE_URL=postgres://...; it has the same migrations as
// store/sqlite, in PostgreSQL types.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	*sqlstore.Store
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user@host:5432/db?...)
// and applies the store's migrations, holding a session advisory lock so
// that processes starting together migrate one at a time. The tables live
// in the connection's current schema: add search_path=NAME to the URL for
// another than public.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, store.Options{})
}

// MaxConns is the most connections a Store holds open to PostgreSQL.
const MaxConns = 16

// OpenWith is Open with the store configured by opts.
func OpenWith(ctx context.Context, url string, opts store.Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	// Keep the connections open: database/sql keeps only two idle by
	// default, so that under concurrent webhooks and activities most
	// queries opened a connection (a new PostgreSQL backend process) and
	// closed it after. Past MaxConns, a query waits for a connection.
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	where := fmt.Sprintf("postgres store %s/%s", cfg.Host, cfg.Database)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	d := sqlstore.Dialect{Goose: goose.DialectPostgres, Numbered: true, Bytewise: ` COLLATE "C"`}
	st, err := sqlstore.Open(ctx, db, d, opts, migrations, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	return &Store{st}, nil
}
