package cluster

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/bench"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
)

var (
	throughputJourneys = flag.Int("cluster.throughput", 200, "journeys (and as many baseline workflows) TestClusterThroughput runs")
	latencyRate        = flag.Float64("cluster.latency-rate", 10, "journeys, then baseline workflows, TestClusterThroughput starts a second to compare their send latency")
)

// TestClusterThroughput measures journey_vs_baseline on Temporal's own
// server over PostgreSQL, as `switchback bench --temporal` does: the
// journeys and the hand-written baseline run in turn, in this process's
// workers, against the same server in the same run, the store on the
// cluster's PostgreSQL. It logs the ratio, each side's rate and latency,
// and the history events and actions per delivered OTP. Then it compares
// their send latency (bench.Env.CompareLatency): as many of each started
// at -cluster.latency-rate a second, from the start call to the first
// send at the sandbox. It fails only when a journey or a baseline
// workflow does not deliver.
func TestClusterThroughput(t *testing.T) {
	requireCluster(t)
	ctx := testContext(t, 10*time.Minute)
	c, _ := newCluster(t, ctx)
	if err := c.StartTemporal(ctx, nil); err != nil {
		t.Fatal(err)
	}
	requireMutualTLS(ctx, t, c)
	env, err := bench.Start(ctx, bench.Options{TemporalAddress: c.FrontendAddr, TemporalNamespace: c.Namespace, TemporalTLS: c.TLS, DatabaseURL: c.StoreURL})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	j, b, err := env.Compare(ctx, *throughputJourneys, sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, map[string]bench.Stats{"journey": j, "baseline": b})
	h, err := env.History(ctx, sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("throughput on the cluster (Temporal over PostgreSQL, %d of each): %s; %s; %s; %s", *throughputJourneys,
		bench.Ratio("journey_vs_baseline", j, b), j.Result("journey"), b.Result("baseline"), h)
	lj, lb, err := env.CompareLatency(ctx, *latencyRate, *throughputJourneys, sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, map[string]bench.Stats{"journey latency": lj, "baseline latency": lb})
	t.Logf("send latency on the cluster (%d of each at %g/s): %s", *throughputJourneys, *latencyRate, bench.LatencyRatio("latency_vs_baseline", lj, lb))
}

// checkDelivered fails t for each run in sts, by name, that had workflows
// that did not deliver.
func checkDelivered(t *testing.T, sts map[string]bench.Stats) {
	t.Helper()
	for name, st := range sts {
		if st.Errors > 0 {
			t.Errorf("%s: %d of %d did not deliver, first: %s", name, st.Errors, st.N, st.FirstError)
		}
	}
}

// requireMutualTLS fails t unless the frontend refuses a client without
// TLS, and one over TLS without the cluster's client certificate.
func requireMutualTLS(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	noCert := c.TLS
	noCert.CertFile, noCert.KeyFile = "", ""
	for name, tlsSettings := range map[string]config.TemporalTLS{"plain gRPC": {}, "TLS without a client certificate": noCert} {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cl, err := c.dialWith(dctx, tlsSettings)
		if err == nil {
			_, err = cl.CheckHealth(dctx, nil)
			cl.Close()
		}
		cancel()
		if err == nil {
			t.Errorf("the frontend answered a client over %s", name)
		}
	}
}
