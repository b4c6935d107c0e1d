package bench

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
)

func startEnv(tb testing.TB, opts Options) *Env {
	tb.Helper()
	e, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return e
}

// The harness runs end to end on a few journeys and prints the first line
// in the form scripts read.
func TestCompareSmoke(t *testing.T) {
	e := startEnv(t, Options{})
	j, b, err := e.Compare(context.Background(), 4, sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	if j.Errors+b.Errors > 0 {
		t.Fatalf("journeys: %s; baseline: %s", j.FirstError, b.FirstError)
	}
	if j.N != 4 || b.N != 4 {
		t.Fatalf("ran %d journeys and %d baseline workflows, want 4 each", j.N, b.N)
	}
	line := Ratio("journey_vs_baseline", j, b).String()
	if !regexp.MustCompile(`^journey_vs_baseline ratio=[0-9.]+ journeys_per_s=[0-9.]+ baseline_per_s=[0-9.]+$`).MatchString(line) {
		t.Errorf("line %q is not in the documented form", line)
	}
	h, err := e.History(context.Background(), sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^history_per_otp journey_events=[1-9][0-9]* journey_actions=[1-9][0-9]* baseline_events=[1-9][0-9]* baseline_actions=[1-9][0-9]*$`).MatchString(h.String()) {
		t.Errorf("line %q is not in the documented form", h)
	}
	lj, lb, err := e.CompareLatency(context.Background(), 20, 4, sandbox.DefaultRecipient, channels.WhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]Stats{"journeys": lj, "baseline": lb} {
		if st.Errors > 0 || st.N != 4 || len(st.Latencies) != 4 {
			t.Fatalf("latency %s: n=%d errors=%d latencies=%d, want 4, 0, 4 (%s)", name, st.N, st.Errors, len(st.Latencies), st.FirstError)
		}
		for _, l := range st.Latencies {
			if l <= 0 || l > st.Elapsed {
				t.Errorf("latency %s: %s, want above 0 and within the run's %s", name, l, st.Elapsed)
			}
		}
	}
	if line := LatencyRatio("latency_vs_baseline", lj, lb).String(); !regexp.MustCompile(`^latency_vs_baseline ratio_p99=[0-9.]+ journey_p50_ms=[0-9.]+ journey_p99_ms=[0-9.]+ baseline_p50_ms=[0-9.]+ baseline_p99_ms=[0-9.]+$`).MatchString(line) {
		t.Errorf("line %q is not in the documented form", line)
	}
	w, s, err := e.Ingest(context.Background(), 20, 4)
	if err != nil {
		t.Fatal(err)
	}
	if w.Errors+s.Errors > 0 {
		t.Fatalf("webhooks: %s; signals: %s", w.FirstError, s.FirstError)
	}
}

// firstSends keeps each workflow's earliest WhatsApp message, whatever the
// order the sandbox lists them in, and skips messages that name none.
func TestFirstSends(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	data := func(id string, attempt int) string {
		return channels.Correlation{WorkflowID: id, Attempt: attempt}.String()
	}
	got := firstSends([]sandbox.SentMessage{
		{CallbackData: data("a", 2), Time: at.Add(3 * time.Second)},
		{CallbackData: data("a", 1), Time: at.Add(time.Second)},
		{CallbackData: data("b", 1), Time: at.Add(2 * time.Second)},
		{Time: at},
	})
	want := map[string]time.Time{"a": at.Add(time.Second), "b": at.Add(2 * time.Second)}
	if len(got) != len(want) || !got["a"].Equal(want["a"]) || !got["b"].Equal(want["b"]) {
		t.Errorf("firstSends = %v, want %v", got, want)
	}
}

// The console benchmark seeds journeys and events, asks for each page and
// reports both, with the queries behind them.
func TestConsoleSmoke(t *testing.T) {
	e := startEnv(t, Options{DataDir: t.TempDir()})
	rs, notes, err := e.Console(context.Background(), ConsoleOptions{Journeys: 6, Contacts: 3, Events: 1200, Requests: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Name != "console_customer" || rs[1].Name != "console_journeys" {
		t.Fatalf("results %v", rs)
	}
	for _, r := range rs {
		if r.Get("errors") != 0 || r.Get("n") != 4 || r.Get("p95_ms") <= 0 {
			t.Errorf("%s", r)
		}
	}
	if len(notes) != 3 || !regexp.MustCompile(`message_events`).MatchString(notes[2]) {
		t.Errorf("notes %q: want the queries and the events plan", notes)
	}
	n, err := e.store.Events(context.Background(), store.EventFilter{})
	if err != nil || len(n) < 1200 {
		t.Errorf("the event log holds %d events (%v), want the 1200 inserted", len(n), err)
	}
}

func TestPercentile(t *testing.T) {
	s := Stats{Latencies: []time.Duration{5, 1, 4, 2, 3}}
	if got := s.Percentile(50); got != 3 {
		t.Errorf("p50 = %d, want 3", got)
	}
	if got := s.Percentile(99); got != 5 {
		t.Errorf("p99 = %d, want 5", got)
	}
}

// BenchmarkThroughput runs b.N journeys and b.N baseline workflows at once
// on one in-memory server: the default path (delivered on WhatsApp) and the
// fallback path (WhatsApp fails, SMS delivers). Compare the journeys/s of
// each pair; `switchback bench` prints the ratio.
func BenchmarkThroughput(b *testing.B) {
	e := startEnv(b, Options{})
	for _, path := range []struct {
		name string
		to   string
		want channels.Channel
	}{
		{"delivered", sandbox.DefaultRecipient, channels.WhatsApp},
		{"fallback", sandbox.WhatsAppUndeliverable, channels.SMS},
	} {
		for _, k := range []Kind{KindJourney, KindBaseline} {
			b.Run(path.name+"/"+k.String(), func(b *testing.B) {
				st, err := e.Run(context.Background(), k, b.N, path.to, path.want)
				if err != nil {
					b.Fatal(err)
				}
				if st.Errors > 0 {
					b.Fatalf("%d of %d failed: %s", st.Errors, st.N, st.FirstError)
				}
				b.ReportMetric(st.PerSecond(), "journeys/s")
				b.ReportMetric(float64(st.Percentile(99).Milliseconds()), "p99-ms")
			})
		}
	}
}

// BenchmarkIngestion posts b.N signed status callbacks through the webhook
// handler, and makes b.N bare SignalWorkflow calls, 16 at a time.
func BenchmarkIngestion(b *testing.B) {
	e := startEnv(b, Options{})
	b.Run("webhook-and-signal", func(b *testing.B) {
		w, s, err := e.Ingest(context.Background(), b.N, 16)
		if err != nil {
			b.Fatal(err)
		}
		if w.Errors+s.Errors > 0 {
			b.Fatalf("webhooks: %s; signals: %s", w.FirstError, s.FirstError)
		}
		b.ReportMetric(w.PerSecond(), "webhooks/s")
		b.ReportMetric(s.PerSecond(), "signals/s")
		b.ReportMetric(float64(w.Percentile(99).Milliseconds()), "webhook-p99-ms")
		b.ReportMetric(float64(s.Percentile(99).Milliseconds()), "signal-p99-ms")
	})
}

// BenchmarkWaiting leaves b.N journeys waiting on a file-backed server and
// reports the start rate and the cost per 1,000 waiting journeys.
func BenchmarkWaiting(b *testing.B) {
	e := startEnv(b, Options{DataDir: b.TempDir()})
	b.Run("journeys", func(b *testing.B) {
		r, err := e.Waiting(context.Background(), b.N, 32)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Get("starts_per_s"), "starts/s")
		b.ReportMetric(r.Get("rss_mib_per_1000"), "rss-MiB/1000")
		b.ReportMetric(r.Get("db_mib_per_1000"), "db-MiB/1000")
	})
}

// The broadcast benchmark broadcasts to a small segment, continuing as new,
// and reports every figure of its line.
func TestBroadcastSmoke(t *testing.T) {
	e := startEnv(t, Options{DataDir: t.TempDir()})
	r, err := e.Broadcast(context.Background(), BroadcastOptions{Recipients: 12, Rate: 500, PageSize: 1, Settle: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("n") != 12 || r.Get("runs") < 2 || r.Get("max_history_events") == 0 || r.Get("delivered") != 12 {
		t.Errorf("%s: want n=12, at least 2 runs (13 pages of 1, 10 a run), a history, 12 delivered", r)
	}
	if !regexp.MustCompile(`^broadcast n=12 seed_s=[0-9.]+ run_s=[0-9.]+ starts_per_s=[0-9.]+ runs=[0-9]+ max_history_events=[0-9]+ `).MatchString(r.String()) {
		t.Errorf("line %q is not in the documented form", r)
	}
}

// A remote namespace where Switchback workers already poll is refused: its
// workers would take the benchmark's journeys. Here the workers are those
// of another Env on its embedded server.
func TestRemoteRefusesNamespaceWithWorkers(t *testing.T) {
	busy := startEnv(t, Options{})
	// The workers have started; wait until their polls reach the server.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := busy.Client.DescribeTaskQueue(context.Background(), journeys.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil && len(resp.GetPollers()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poller on %s after 10 s (%v)", journeys.TaskQueue, err)
		}
	}
	e, err := Start(context.Background(), Options{TemporalAddress: busy.Config.TemporalAddress, TemporalNamespace: busy.Config.TemporalNamespace})
	if err == nil {
		e.Close()
		t.Fatal("Start on a namespace with workers polling: want an error")
	}
	if want := `workers poll task queue "switchback"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
