package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/telemetry"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// sample is one line of a Prometheus text scrape.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseScrape reads the samples of a Prometheus text exposition.
func parseScrape(t *testing.T, body string) []sample {
	t.Helper()
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		s := sample{name: line[:i], labels: map[string]string{}, value: v}
		if name, labels, ok := strings.Cut(line[:i], "{"); ok {
			s.name = name
			for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
				k, v, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(v, `"`)
			}
		}
		out = append(out, s)
	}
	return out
}

// want is a series a scrape must hold: name and some of its labels, and
// its value (a sum over the series that match, when several do).
type want struct {
	name    string
	labels  map[string]string
	value   float64
	atLeast bool // value is a minimum
}

func (w want) String() string { return fmt.Sprintf("%s%v", w.name, w.labels) }

// sum adds the values of the samples named name whose labels include labels.
func sum(samples []sample, name string, labels map[string]string) (float64, bool) {
	var total float64
	found := false
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range labels {
			if s.labels[k] != v {
				continue next
			}
		}
		total += s.value
		found = true
	}
	return total, found
}

// unmet returns the wants that samples do not meet.
func unmet(samples []sample, wants []want) []string {
	var out []string
	for _, w := range wants {
		got, ok := sum(samples, w.name, w.labels)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: missing", w))
		case w.atLeast && got < w.value, !w.atLeast && got != w.value:
			out = append(out, fmt.Sprintf("%s = %v, want %v", w, got, w.value))
		}
	}
	return out
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// scrapeUntil scrapes url until it meets wants, which the SDK's counters
// do within a few report intervals; after a minute it fails and names the
// wants not met.
func scrapeUntil(t *testing.T, url string, wants []want) []sample {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		samples := parseScrape(t, get(t, url))
		missing := unmet(samples, wants)
		if len(missing) == 0 {
			return samples
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after a minute:\n  %s", url, strings.Join(missing, "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newTelemetry(t *testing.T, opts telemetry.Options) *telemetry.Telemetry {
	t.Helper()
	opts.ReportInterval = 10 * time.Millisecond
	tel, err := telemetry.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel
}

// After an OTP journey that falls back from WhatsApp to SMS, the metrics
// server's /metrics shows the SDK's metrics, the journey counters and the
// webhook counters. The journey counters are exact: RunOTP polls the
// timeline (journeys.WaitSettled) while the journey runs, and queries it
// again at the end, which once made counters counted in the workflow count
// some decisions twice.
func TestMetricsAfterJourney(t *testing.T) {
	tel := newTelemetry(t, telemetry.Options{})
	s := apptest.StartWith(t, apptest.Options{Telemetry: tel})
	run := s.RunOTP(t, sandbox.WhatsAppUndeliverable)
	if run.Result.Outcome != workflows.OutcomeVerified {
		t.Fatalf("journey = %+v, want verified", run.Result)
	}
	// More queries answered from the full history count nothing.
	for range 3 {
		if _, err := journeys.GetTimeline(context.Background(), s.Client, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	wants := []want{
		// The Temporal SDK's own, which it reports every interval.
		{name: "temporal_workflow_completed_total", labels: map[string]string{"workflow_type": journeys.WorkflowType}, value: 1},
		{name: "temporal_activity_execution_latency_seconds_count", labels: map[string]string{"activity_type": activities.SendName}, value: 2},
		{name: "temporal_workflow_endtoend_latency_seconds_count", labels: map[string]string{"workflow_type": journeys.WorkflowType}, value: 1},
		// The webhooks': the sandbox's signed callbacks.
		{name: app.MetricWebhookRequests, labels: map[string]string{"provider": "whatsapp", "result": "200"}, value: 1, atLeast: true},
		{name: app.MetricWebhookRequests, labels: map[string]string{"provider": "twilio", "result": "200"}, value: 2, atLeast: true},
		// The process's.
		{name: "go_goroutines", value: 1, atLeast: true},
	}
	samples := scrapeUntil(t, "http://"+s.MetricsAddr+"/metrics", wants)
	if _, ok := sum(samples, app.MetricSignatureFailures, nil); ok {
		t.Errorf("signature failures counted for signed callbacks")
	}

	// The journey's, counted as their events were written to the event
	// log, which the journey did before it ended: every series, exactly.
	got := map[string]float64{}
	for _, sm := range samples {
		switch sm.name {
		case activities.MetricSends, activities.MetricStatuses, activities.MetricFallbacks, activities.MetricSkips:
			got[fmt.Sprintf("%s%v", sm.name, sm.labels)] += sm.value
		}
	}
	series := func(name string, labels map[string]string) string {
		labels["journey"] = "otp"
		return fmt.Sprintf("%s%v", name, labels)
	}
	wantJourney := map[string]float64{
		series(activities.MetricSends, map[string]string{"channel": "whatsapp", "template": "otp_code", "result": activities.ResultAccepted}):       1,
		series(activities.MetricStatuses, map[string]string{"channel": "whatsapp", "template": "otp_code", "status": "failed"}):                     1,
		series(activities.MetricFallbacks, map[string]string{"channel": "whatsapp", "reason": string(store.ClassFailedStatus)}):                     1,
		series(activities.MetricSends, map[string]string{"channel": "sms", "template": activities.NoTemplate, "result": activities.ResultAccepted}): 1,
		series(activities.MetricStatuses, map[string]string{"channel": "sms", "template": activities.NoTemplate, "status": "sent"}):                 1,
		series(activities.MetricStatuses, map[string]string{"channel": "sms", "template": activities.NoTemplate, "status": "delivered"}):            1,
	}
	if !maps.Equal(got, wantJourney) {
		t.Errorf("journey counters:\n got  %v\n want %v", got, wantJourney)
	}
}

// A webhook with a bad signature counts as a signature failure of its
// provider; Meta's handshake refused for its token is a 403 too, but no
// signature failure.
func TestWebhookMetrics(t *testing.T) {
	tel := newTelemetry(t, telemetry.Options{})
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.WhatsApp = &config.WhatsApp{AppSecret: "secret", VerifyToken: "token", AccessToken: "a", PhoneNumberID: "1"}
	cfg.Twilio = &config.Twilio{AccountSID: "AC1", AuthToken: "auth", From: "+15005550006"}
	h := app.HTTPHandler(app.HTTPOptions{Config: cfg, Telemetry: tel})
	srv := httptest.NewServer(h)
	defer srv.Close()

	do := func(method, path, body string, header map[string]string) int {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	handshake := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"42"}}
	requests := []struct {
		method, path, body string
		header             map[string]string
		status             int
	}{
		{"POST", "/webhooks/whatsapp", `{"object":"whatsapp_business_account","entry":[]}`, map[string]string{"X-Hub-Signature-256": "sha256=00"}, http.StatusForbidden},
		{"POST", "/webhooks/whatsapp", `{}`, nil, http.StatusForbidden},
		{"POST", "/webhooks/twilio/status", "MessageSid=SM1&MessageStatus=delivered", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "bad"}, http.StatusForbidden},
		{"GET", "/webhooks/whatsapp?" + handshake.Encode() + "&hub.verify_token=wrong", "", nil, http.StatusForbidden},
		{"GET", "/webhooks/whatsapp?" + handshake.Encode() + "&hub.verify_token=token", "", nil, http.StatusOK},
	}
	for _, r := range requests {
		if got := do(r.method, r.path, r.body, r.header); got != r.status {
			t.Fatalf("%s %s = %d, want %d", r.method, r.path, got, r.status)
		}
	}
	metrics := httptest.NewServer(app.MetricsHandler(app.MetricsOptions{Telemetry: tel}))
	defer metrics.Close()
	samples := parseScrape(t, get(t, metrics.URL+"/metrics"))
	if missing := unmet(samples, []want{
		{name: app.MetricSignatureFailures, labels: map[string]string{"provider": "whatsapp"}, value: 2},
		{name: app.MetricSignatureFailures, labels: map[string]string{"provider": "twilio"}, value: 1},
		{name: app.MetricSignatureFailures, value: 3}, // the handshake is not one
		{name: app.MetricWebhookRequests, labels: map[string]string{"provider": "whatsapp", "result": "403"}, value: 3},
		{name: app.MetricWebhookRequests, labels: map[string]string{"provider": "whatsapp", "result": "200"}, value: 1},
		{name: app.MetricWebhookRequests, labels: map[string]string{"provider": "twilio", "result": "403"}, value: 1},
	}); len(missing) > 0 {
		t.Errorf("/metrics:\n  %s", strings.Join(missing, "\n  "))
	}
}

// The metrics server answers /metrics and /healthz.
func TestMetricsHandler(t *testing.T) {
	tel := newTelemetry(t, telemetry.Options{})
	srv := httptest.NewServer(app.MetricsHandler(app.MetricsOptions{Telemetry: tel}))
	defer srv.Close()
	if got := get(t, srv.URL+"/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
	if _, ok := sum(parseScrape(t, get(t, srv.URL+"/metrics")), "go_goroutines", nil); !ok {
		t.Error("/metrics lacks go_goroutines")
	}
}

// A journey started through the instrumented client is one trace, from
// StartWorkflow to its activities; webhook requests get server spans.
func TestTracingAfterJourney(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	tel := newTelemetry(t, telemetry.Options{TracerProvider: tp})
	s := apptest.StartWith(t, apptest.Options{Telemetry: tel})
	run := s.RunOTP(t, sandbox.DefaultRecipient)
	if run.Result.Outcome != workflows.OutcomeVerified {
		t.Fatalf("journey = %+v, want verified", run.Result)
	}

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	var server int
	for _, sp := range spans {
		if _, ok := byName[sp.Name]; !ok {
			byName[sp.Name] = sp
		}
		if sp.Name == http.MethodPost && sp.SpanKind.String() == "server" {
			server++
		}
	}
	start, ok := byName["StartWorkflow:"+journeys.WorkflowType]
	if !ok {
		t.Fatalf("no StartWorkflow span among %d spans: %v", len(spans), names(spans))
	}
	for _, name := range []string{
		"RunWorkflow:" + journeys.WorkflowType,
		"StartActivity:" + activities.SendName,
		"RunActivity:" + activities.SendName,
	} {
		sp, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("no %s span among %v", name, names(spans))
		case sp.SpanContext.TraceID() != start.SpanContext.TraceID():
			t.Errorf("%s is in trace %s, not the journey's %s", name, sp.SpanContext.TraceID(), start.SpanContext.TraceID())
		}
	}
	if server == 0 {
		t.Errorf("no server span for the webhook requests among %v", names(spans))
	}
}

func names(spans tracetest.SpanStubs) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range spans {
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s.Name)
		}
	}
	return out
}
