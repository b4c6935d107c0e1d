package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// requireCluster skips the test unless SWITCHBACK_CLUSTER=1.
func requireCluster(t *testing.T) {
	t.Helper()
	if os.Getenv("SWITCHBACK_CLUSTER") != "1" {
		t.Skip("the cluster tests build Temporal's server, run it on the PostgreSQL of 127.0.0.1:5432 and restart PostgreSQL: run them alone with SWITCHBACK_CLUSTER=1 (README \"Cluster test\")")
	}
}

// testContext returns a context that ends a minute before go test's
// -timeout (10 minutes by default), and at most after limit: a stuck run
// still stops its processes and drops its databases, and the tests after
// it still run.
func testContext(t *testing.T, limit time.Duration) context.Context {
	deadline := time.Now().Add(limit)
	if d, ok := t.Deadline(); ok && d.Add(-time.Minute).Before(deadline) {
		deadline = d.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// newCluster builds the programs from this module and creates a cluster
// (New) in a test directory; it returns the cluster and how long the build
// took. The test's end stops the processes and drops the databases, and
// shows the processes' last log lines when the test failed.
func newCluster(t *testing.T, ctx context.Context) (*Cluster, time.Duration) {
	t.Helper()
	began := time.Now()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bins, err := Build(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(began)
	c, err := New(ctx, Options{Root: root, Dir: dir, Binaries: bins, Shards: *shards})
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range append([]*Process{c.Temporal, c.Serve}, c.Workers...) {
				if p != nil {
					t.Logf("%s log, last lines:\n%s", p.Name, p.Tail(40))
				}
			}
		}
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, built
}
