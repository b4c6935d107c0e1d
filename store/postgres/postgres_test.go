package postgres

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/storetest"
)

// testURL returns the database of SWITCHBACK_TEST_POSTGRES. Without it the
// tests skip, except in CI, where they must run.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("SWITCHBACK_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but SWITCHBACK_TEST_POSTGRES is not set: the Postgres store tests must run in CI")
		}
		t.Skip("SWITCHBACK_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): Postgres store tests skipped")
	}
	return u
}

// freshSchema creates a schema of its own for t, dropped when t ends, and
// returns base with its search_path set to it.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("SWITCHBACK_TEST_POSTGRES: %v", err)
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	schema := "sbtest_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SWITCHBACK_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestSuite(t *testing.T) {
	base := testURL(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s, err := OpenWith(context.Background(), freshSchema(t, base), opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConcurrentOpen opens one new database from several processes' worth
// of stores at once: the migration lock lets each finish.
func TestConcurrentOpen(t *testing.T) {
	u := freshSchema(t, testURL(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), u)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// TestSchemaIsolated checks that a store sees only its own schema's tables.
func TestSchemaIsolated(t *testing.T) {
	base := testURL(t)
	ctx := context.Background()
	a, err := Open(ctx, freshSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, freshSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.UpsertContact(ctx, store.Contact{Key: "k1", Number: "+15551234567"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Contact(ctx, "k1"); err == nil {
		t.Error("a contact of one schema is visible in another")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"postgres://%zz", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"} {
		if s, err := Open(context.Background(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", u)
		}
	}
}
