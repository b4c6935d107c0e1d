package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is the machine's PostgreSQL server that the cluster keeps its
// databases in, reached as a superuser (trust authentication).
type Postgres struct {
	// Host, Port and User reach the server.
	Host string
	Port string
	User string
}

// DefaultPostgres is the server `.ci/run` starts: 127.0.0.1:5432 as
// postgres.
var DefaultPostgres = Postgres{Host: "127.0.0.1", Port: "5432", User: "postgres"}

// URL returns the URL of database db, for pgx and Switchback's store.
func (pg Postgres) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(pg.User), Host: net.JoinHostPort(pg.Host, pg.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// exec runs one statement in the postgres database.
func (pg Postgres) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s:%s: %w", pg.Host, pg.Port, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// CreateDatabase creates the empty database db.
func (pg Postgres) CreateDatabase(ctx context.Context, db string) error {
	return pg.exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
}

// DropDatabase drops db if it exists, closing the connections to it.
func (pg Postgres) DropDatabase(ctx context.Context, db string) error {
	return pg.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
}

// Size returns the size of database db in bytes (pg_database_size).
func (pg Postgres) Size(ctx context.Context, db string) (int64, error) {
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return 0, fmt.Errorf("connect to PostgreSQL at %s:%s: %w", pg.Host, pg.Port, err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT pg_database_size($1)", db).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of %s: %w", db, err)
	}
	return n, nil
}

// SetupTemporalSchema brings db to the latest schema of kind ("temporal"
// or "visibility") with temporal-sql-tool, as deploy/temporal/setup-schema.sh
// does in the compose file: setup-schema at 0.0, then update-schema, here
// from the schema versions embedded in the tool.
func (pg Postgres) SetupTemporalSchema(ctx context.Context, sqlTool, db, kind string) error {
	base := []string{"--plugin", "postgres12", "--endpoint", pg.Host, "--port", pg.Port, "--user", pg.User, "--database", db}
	for _, args := range [][]string{
		{"setup-schema", "--version", "0.0"},
		{"update-schema", "--schema-name", "postgresql/v12/" + kind},
	} {
		cmd := exec.CommandContext(ctx, sqlTool, append(base, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("temporal-sql-tool %s on %s: %w\n%s", args[0], db, err, out)
		}
	}
	return nil
}

// Restart restarts the server with pg_ctlcluster (the one cluster named
// main of the single version under /etc/postgresql), then waits until
// pg_isready reports it accepts connections. It returns how long the
// server took to come back.
func (pg Postgres) Restart(ctx context.Context) (time.Duration, error) {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		return 0, fmt.Errorf("want one PostgreSQL version under /etc/postgresql: %v (%d found)", err, len(versions))
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pg_ctlcluster restart: %w\n%s", err, out)
	}
	_, err = waitFor(ctx, "PostgreSQL", pg.Ready)
	return time.Since(start), err
}

// Ready runs pg_isready: nil when the server accepts connections.
func (pg Postgres) Ready(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "pg_isready", "-h", pg.Host, "-p", pg.Port, "-U", pg.User).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_isready: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
