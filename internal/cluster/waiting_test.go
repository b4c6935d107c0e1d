package cluster

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/journeys"
)

var waitingJourneys = flag.Int("cluster.waiting", 1000, "abandoned_cart journeys TestClusterWaiting leaves waiting")

// maxWorkerRSS is the most memory a worker may hold, however many journeys
// wait: its workflow cache is bounded, and a journey out of it costs the
// database, not the worker.
const maxWorkerRSS = 300 << 20

// TestClusterWaiting starts abandoned_cart journeys through serve's API
// until -cluster.waiting of them sit in their first wait (an hour), then
// reports what they cost on the cluster: each worker's memory, the
// Temporal server's, and PostgreSQL's growth per 1,000 waiting journeys.
// Every start must succeed, every journey must be waiting, and no
// worker's RSS may have passed maxWorkerRSS.
func TestClusterWaiting(t *testing.T) {
	requireCluster(t)
	n := *waitingJourneys
	// Allow 10 a second: 100,000 took 26 minutes on two shared cores with
	// SWITCHBACK_WORKER_POLLERS=100, longer with the fixed pollers (run
	// them with -timeout 3h10m, above this limit).
	ctx := testContext(t, 9*time.Minute+time.Duration(n)*100*time.Millisecond)
	c := startCluster(t, ctx)
	empty, err := c.DatabaseSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &apiClient{base: c.PublicURL, token: c.APIToken, http: &http.Client{}}
	begin := time.Now()
	ids, err := startWaiting(ctx, a, n, 16)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Since(begin)
	// Journeys run their first workflow task in about the order they
	// started: when the last ones wait, nearly all do; every one is
	// checked after.
	for _, id := range ids[max(0, n-10):] {
		if err := awaitWaiting(ctx, a, id); err != nil {
			t.Fatal(err)
		}
	}
	settled := time.Since(begin)
	time.Sleep(2 * time.Second) // the last workflow tasks' writes
	size, err := c.DatabaseSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	memory := c.memory()
	for _, w := range c.Workers {
		if peak := w.Memory().Peak; peak > maxWorkerRSS {
			t.Errorf("%s: peak RSS %d MiB with %d journeys waiting, want at most %d MiB whatever the count (SWITCHBACK_WORKER_CACHE bounds it)",
				w.Name, peak>>20, n, maxWorkerRSS>>20)
		}
	}
	if err := c.awaitRunning(ctx, n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += max(1, n/100) {
		if err := awaitWaiting(ctx, a, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("waiting: n=%d starts_per_s=%.1f waiting_per_s=%.1f %s db_mib_per_1000=%.1f db_mib=%.0f (PostgreSQL: Temporal's two databases and the store)",
		n, float64(n)/started.Seconds(), float64(n)/settled.Seconds(), memory,
		float64(size-empty)/(1<<20)/float64(n)*1000, float64(size)/(1<<20))
}

// awaitRunning waits until visibility counts n running journeys, for at
// most a minute (visibility follows the history a little behind).
func (c *Cluster) awaitRunning(ctx context.Context, n int) error {
	tc, err := c.Dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", journeys.WorkflowType)
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.Namespace, Query: query})
		if err == nil && res.GetCount() == int64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("visibility counts %d running journeys (%v), want %d", res.GetCount(), err, n)
		}
		time.Sleep(time.Second)
	}
}

// startCluster starts a new cluster with the sandbox's providers.
func startCluster(t *testing.T, ctx context.Context) *Cluster {
	t.Helper()
	c, _ := newCluster(t, ctx)
	_, env := startSandbox(t, c.PublicURL)
	if err := c.Start(ctx, env); err != nil {
		t.Fatal(err)
	}
	return c
}

// startWaiting starts n abandoned_cart journeys through the API, par at a
// time, each to its own number, and returns their ids in start order.
func startWaiting(ctx context.Context, a *apiClient, n, par int) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	errs := make(chan error, par)
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				ids[i] = fmt.Sprintf("waiting-%06d", i)
				start := api.StartRequest{Journey: "abandoned_cart", To: fmt.Sprintf("+1555%07d", 4000000+i),
					Vars: map[string]string{"cart_url": fmt.Sprintf("https://shop.example/cart/%d", i)}}
				if _, err := a.call(ctx, http.MethodPost, "/v1/journeys", ids[i], start, nil); err != nil {
					errs <- fmt.Errorf("start %s: %w", ids[i], err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return ids, <-errs
}

// awaitWaiting polls journey id's timeline until it is in its first wait.
func awaitWaiting(ctx context.Context, a *apiClient, id string) error {
	for {
		var tl api.TimelineResponse
		if _, err := a.call(ctx, http.MethodGet, "/v1/journeys/"+url.PathEscape(id), "", nil, &tl); err != nil {
			return err
		}
		switch {
		case tl.Outcome != journeys.OutcomeRunning:
			return fmt.Errorf("journey %s ended %s, want it waiting", id, tl.Outcome)
		case len(tl.Events) > 1 && tl.Events[1].Kind == journeys.EventWait:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("journey %s not waiting: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
