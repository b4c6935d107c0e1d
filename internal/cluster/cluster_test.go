package cluster

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
)

var (
	burstSize = flag.Int("cluster.burst", 100, "journeys of the undisturbed throughput burst")
	rate      = flag.Float64("cluster.rate", 4, "journeys started per second while the cluster is disrupted")
	shards    = flag.Int("cluster.shards", DefaultShards, "Temporal history shards")
	skip      = flag.String("cluster.skip", "", "disruptions to leave out, comma-separated: worker,temporal,serve,postgres")
)

// settle is the pause after each disruption, while journeys keep starting.
const settle = 10 * time.Second

// disruption is one fault the test causes, and how long the cluster took
// to serve again.
type disruption struct {
	name       string
	start, end time.Time // the fault, from its start until the cluster was ready again
	recovery   string
}

// TestCluster runs Switchback as production runs it (package doc) and
// disrupts it while journeys start through the HTTP API: a worker killed
// with SIGKILL, Temporal stopped for 10s, serve restarted, PostgreSQL
// restarted. Every journey must end with its recipient's outcome, no
// attempt be sent twice beyond the documented guarantee, and every
// callback be answered 200 in the end.
func TestCluster(t *testing.T) {
	requireCluster(t)
	began := time.Now()
	ctx := testContext(t, 12*time.Minute)
	c, built := newCluster(t, ctx)
	sb, env := startSandbox(t, c.PublicURL)
	if err := c.Start(ctx, env); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster ready in %s (build %s): temporal %s (%d shards), serve %s, %d workers",
		time.Since(began).Round(time.Millisecond), built.Round(time.Millisecond), c.FrontendAddr, *shards, c.PublicURL, len(c.Workers))
	empty, err := c.DatabaseSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &apiClient{base: c.PublicURL, token: c.APIToken, http: &http.Client{}}

	// Undisturbed: how long from the start call to the first send, at a
	// few rates.
	lat := measureLatency(ctx, t, c, a, sb)

	// Undisturbed: how many journeys a second the cluster ends.
	bctx, bcancel := context.WithTimeout(ctx, 5*time.Minute)
	b := burst(bctx, a, "burst", *burstSize, kinds[0])
	bcancel()
	throughput := perSecond(b)

	// Disrupted: journeys start at a steady rate throughout.
	l := startLoad(ctx, a, "load", *rate)
	ds := disrupt(ctx, t, c)
	rs := l.finish()
	memory := c.memory()
	size, err := c.DatabaseSize(ctx)
	if err != nil {
		t.Error(err)
	}
	waitCallbacks(t, sb)

	all := slices.Concat(lat, b, rs)
	counts := check(t, all)
	dups, allowed := duplicates(t, sb.Sent(), ds)
	cb := sb.Callbacks()
	if cb.Dropped != 0 || cb.Pending() != 0 || cb.Answered != cb.Started {
		t.Errorf("callbacks: %+v (pending %d): want every one answered 2xx", cb, cb.Pending())
	}
	bp50, bp99 := sendLatency(b, sb.Sent())
	lp50, lp99 := sendLatency(rs, sb.Sent())
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s=%s,longest_pause_in_sends_%s", d.name, d.recovery, longestPause(d, sb.Sent()).Round(100*time.Millisecond)))
	}
	t.Logf("cluster: journeys=%d right=%d outcomes=%s timeout_fallbacks=%d duplicates=%d (within_guarantee=%d) sends=%d callbacks=%d answered=%d retried=%d dropped=%d api_retries=%d(%s) disruptions: %s burst_journeys_per_s=%.1f send_latency_burst_p50=%s p99=%s send_latency_load_p50=%s p99=%s %s db_mib_per_1000_journeys=%.1f total=%s",
		len(all), counts.right, counts.outcomes, counts.timeoutFallbacks, dups, allowed, len(sb.Sent()),
		cb.Started, cb.Answered, cb.Retried, cb.Dropped, a.retries.Load(), a.retryCauses(), strings.Join(parts, " "),
		throughput, bp50, bp99, lp50, lp99, memory, float64(size-empty)/(1<<20)/float64(len(all))*1000, time.Since(began).Round(time.Second))
}

// startSandbox serves the provider lookalikes on loopback, posting
// callbacks to serve at publicURL and retrying them on non-2xx as the
// providers do (Meta for 7 days, SendGrid for 24 hours: here every 5s at
// most, for as long as the test runs). It returns the sandbox and the
// providers' settings for worker and serve.
func startSandbox(t *testing.T, publicURL string) (*sandbox.Sandbox, []string) {
	t.Helper()
	key, pub, err := sandbox.NewSendGridKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := sandbox.Config{
		WhatsAppWebhookURL: publicURL + "/webhooks/whatsapp",
		AppSecret:          rand.Text(),
		AccessToken:        rand.Text(),
		PhoneNumberID:      "100000000000001",
		TwilioAccountSID:   "AC" + rand.Text(),
		TwilioAuthToken:    rand.Text(),
		SendGridAPIKey:     "SG." + rand.Text(),
		SendGridWebhookURL: publicURL + "/webhooks/sendgrid",
		SendGridSigningKey: key,
		CallbackAttempts:   1000,
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		sb.Close()
		srv.Close()
	})
	return sb, []string{
		"WHATSAPP_ACCESS_TOKEN=" + cfg.AccessToken,
		"WHATSAPP_PHONE_NUMBER_ID=" + cfg.PhoneNumberID,
		"WHATSAPP_APP_SECRET=" + cfg.AppSecret,
		"WHATSAPP_VERIFY_TOKEN=" + rand.Text(),
		"WHATSAPP_API_URL=" + srv.URL + "/v23.0",
		"WHATSAPP_BUSINESS_NUMBER=+" + sandbox.DefaultDisplayPhone, // wa_link (abandoned_cart, order_update)
		"TWILIO_ACCOUNT_SID=" + cfg.TwilioAccountSID,
		"TWILIO_AUTH_TOKEN=" + cfg.TwilioAuthToken,
		"TWILIO_FROM=+15005550006",
		"TWILIO_API_URL=" + srv.URL,
		"SENDGRID_API_KEY=" + cfg.SendGridAPIKey,
		"SENDGRID_FROM=Switchback <noreply@cluster.switchback.test>",
		"SENDGRID_API_URL=" + srv.URL,
		"SENDGRID_WEBHOOK_PUBLIC_KEY=" + pub,
		// Many journeys fall back to SMS at once: above one number's 1/s.
		"SWITCHBACK_RATE_SMS=50",
	}
}

// disrupt causes the faults in turn, each followed by settle, and returns
// them.
func disrupt(ctx context.Context, t *testing.T, c *Cluster) []disruption {
	t.Helper()
	var ds []disruption
	run := func(name string, f func() (string, error)) {
		if slices.Contains(strings.Split(*skip, ","), name) {
			return
		}
		time.Sleep(settle)
		d := disruption{name: name, start: time.Now()}
		rec, err := f()
		d.end, d.recovery = time.Now(), rec
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %s", name, rec)
		ds = append(ds, d)
	}
	run("worker", func() (string, error) {
		r, err := c.KillWorker(ctx, 0)
		return "sigkill,replacement_ready_in_" + r.Round(time.Millisecond).String(), err
	})
	run("temporal", func() (string, error) {
		r, err := c.StopTemporal(ctx, 10*time.Second)
		return "down_10s,frontend_serving_" + r.Round(time.Millisecond).String() + "_after_start", err
	})
	run("serve", func() (string, error) {
		r, err := c.RestartServe(ctx)
		return "restart,ready_in_" + r.Round(time.Millisecond).String(), err
	})
	run("postgres", func() (string, error) {
		pg, sw, err := c.RestartPostgres(ctx)
		return "restart,pg_isready_in_" + pg.Round(time.Millisecond).String() + ",switchback_ready_" + sw.Round(time.Millisecond).String() + "_later", err
	})
	time.Sleep(settle)
	return ds
}

// waitCallbacks waits until the sandbox has no callback left to retry.
func waitCallbacks(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); sb.Callbacks().Pending() > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("callbacks still retried after 2 minutes: %+v", sb.Callbacks())
			return
		}
	}
}

// counts sum up the journeys' results.
type counts struct {
	right, timeoutFallbacks int
	outcomes                string
}

// check reports every journey that did not end right, and counts them.
func check(t *testing.T, rs []result) counts {
	t.Helper()
	var c counts
	by := map[string]int{}
	for _, r := range rs {
		key := string(r.outcome)
		if r.channel != "" {
			key += ":" + string(r.channel)
		}
		by[key]++
		if r.timeoutFallback {
			c.timeoutFallbacks++
		}
		if r.right() {
			c.right++
			continue
		}
		t.Errorf("journey %s (%s): ended %q on %q, want %q on %q (error %v); last timeline read:\n%s",
			r.id, r.kind.name, r.outcome, r.channel, r.kind.outcome, r.kind.channel, r.err, explain(r.timeline))
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, by[k]))
	}
	c.outcomes = strings.Join(parts, ",")
	return c
}

// explain returns a timeline an entry a line.
func explain(tl journeys.Timeline) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\toutcome %s, awaiting %q, delivery %+v\n", tl.Outcome, tl.Awaiting, tl.Delivery)
	for _, e := range tl.Events {
		fmt.Fprintf(&b, "\t%s %s attempt=%d %s %s %s %s: %s\n", e.Time.Format("15:04:05.000"), e.Kind, e.Attempt,
			e.Channel, e.Status, e.Code, e.ReasonClass, e.Reason)
	}
	return b.String()
}

// duplicates reports the journey attempts sent more than once. The
// documented guarantee (README "Reliability") is at least once per
// attempt: a send the provider accepted but Temporal never recorded (its
// worker killed, or Temporal down until the send timed out) may be sent
// again. A duplicate whose first send came in the 15 s (the send's
// timeout) before a worker was killed or Temporal stopped, or during the
// stop, is within it; any other is an error.
func duplicates(t *testing.T, sent []sandbox.SentMessage, ds []disruption) (all, allowed int) {
	t.Helper()
	first := map[string]time.Time{}
	for _, m := range sent {
		if k := apptest.SendKey(m); k != "" {
			if _, ok := first[k]; !ok {
				first[k] = m.Time
			}
		}
	}
	for k, n := range apptest.Duplicates(sent) {
		all++
		if d, ok := unrecorded(first[k], ds); ok {
			allowed++
			t.Logf("attempt %s sent %d times: first at %s, %s stopped at %s", k, n, first[k].Format("15:04:05.000"), d.name, d.start.Format("15:04:05.000"))
			continue
		}
		t.Errorf("attempt %s sent %d times (first at %s)", k, n, first[k].Format("15:04:05.000"))
	}
	return all, allowed
}

// unrecorded returns the disruption that may have kept a send at sent
// from being recorded: a worker killed or Temporal stopped within 15 s
// after it, or while it was going on (a server shutting down still hands
// out the tasks it has).
func unrecorded(sent time.Time, ds []disruption) (disruption, bool) {
	for _, d := range ds {
		if (d.name == "worker" || d.name == "temporal") && sent.After(d.start.Add(-15*time.Second)) && sent.Before(d.end) {
			return d, true
		}
	}
	return disruption{}, false
}

// longestPause is the longest time without a send reaching the sandbox
// from d's start until the first send after settle past its end: how long
// journeys stalled.
func longestPause(d disruption, sent []sandbox.SentMessage) time.Duration {
	var longest time.Duration
	last := d.start
	for _, m := range sent {
		if m.Time.Before(d.start) {
			continue
		}
		longest = max(longest, m.Time.Sub(last))
		last = m.Time
		if m.Time.After(d.end.Add(settle)) {
			break
		}
	}
	return longest
}

// perSecond is how many journeys a second ended, from the first start to
// the last end.
func perSecond(rs []result) float64 {
	if len(rs) == 0 {
		return 0
	}
	first, last := rs[0].started, rs[0].ended
	for _, r := range rs {
		first = minTime(first, r.started)
		last = maxTime(last, r.ended)
	}
	return float64(len(rs)) / last.Sub(first).Seconds()
}

// sendLatency returns the median and 99th percentile of the time from a
// journey's start call to its first send reaching the sandbox.
func sendLatency(rs []result, sent []sandbox.SentMessage) (p50, p99 time.Duration) {
	firstSend := map[string]time.Time{}
	for _, m := range sent {
		id, _, _ := strings.Cut(apptest.SendKey(m), "#")
		if _, ok := firstSend[id]; !ok && id != "" {
			firstSend[id] = m.Time
		}
	}
	var ds []time.Duration
	for _, r := range rs {
		if s, ok := firstSend[r.id]; ok {
			ds = append(ds, s.Sub(r.started))
		}
	}
	return percentiles(ds)
}

// memory formats the resident memory of the workers and the server.
func (c *Cluster) memory() string {
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	var parts []string
	for _, w := range c.Workers {
		m := w.Memory()
		parts = append(parts, fmt.Sprintf("%s_rss_mib=%.0f(peak %.0f)", strings.ReplaceAll(w.Name, "-", ""), mib(m.RSS), mib(m.Peak)))
	}
	s, t := c.Serve.Memory(), c.Temporal.Memory()
	parts = append(parts, fmt.Sprintf("serve_rss_mib=%.0f temporal_rss_mib=%.0f(peak %.0f)", mib(s.RSS), mib(t.RSS), mib(t.Peak)))
	return strings.Join(parts, " ")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
