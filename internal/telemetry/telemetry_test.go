package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestTracingEnabled(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    bool
		wantErr bool
	}{
		{"nothing set", nil, false, false},
		{"service name only", map[string]string{"OTEL_SERVICE_NAME": "sb"}, false, false},
		{"exporter otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, true, false},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317"}, true, false},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false, false},
		{"sdk disabled false", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{"exporter none beats endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, false, false},
		{"unsupported exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TracingEnabled(env(tt.vars))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("TracingEnabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOffByDefault(t *testing.T) {
	tel, err := New(context.Background(), Options{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	if tel.Tracing() || tel.shutdownTP != nil {
		t.Fatal("tracing is on with no OTEL_* variable set")
	}
	is, err := tel.Interceptors()
	if err != nil || len(is) != 0 {
		t.Errorf("Interceptors() = %v, %v; want none", is, err)
	}
	h := http.NotFoundHandler()
	if got := tel.WrapHTTP(h); got == nil || isOtel(got) {
		t.Errorf("WrapHTTP wrapped the handler with tracing off")
	}
}

func isOtel(h http.Handler) bool {
	_, plain := h.(http.HandlerFunc)
	return !plain
}

func TestExporterFromEnvironment(t *testing.T) {
	tel, err := New(context.Background(), Options{Getenv: env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SERVICE_NAME": "switchback-test",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if !tel.Tracing() || tel.shutdownTP == nil {
		t.Fatal("no exporter with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	// Nothing was recorded: the flush has nothing to send.
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBadTracingEnvironment(t *testing.T) {
	for _, vars := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "jaeger"},
		{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
	} {
		if _, err := New(context.Background(), Options{Getenv: env(vars)}); err == nil {
			t.Errorf("New with %v: no error", vars)
		}
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetrics(t *testing.T) {
	tel, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	mh := tel.MetricsHandler().WithTags(map[string]string{"channel": "sms"})
	mh.Counter("switchback_test_total").Inc(2)
	mh.Counter("temporal_test").Inc(1)
	mh.Timer("temporal_test_latency").Record(1500 * 1e6)
	// Shutdown reports the counters not yet reported.
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, tel.Handler())
	for _, want := range []string{
		`switchback_test_total{channel="sms"} 2`,
		`temporal_test_total{channel="sms"} 1`,
		`temporal_test_latency_seconds_bucket{channel="sms",le="+Inf"} 1`,
		`temporal_test_latency_seconds_sum{channel="sms"} 1.5`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func TestRegistrationConflictDoesNotPanic(t *testing.T) {
	tel, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	mh := tel.MetricsHandler()
	mh.WithTags(map[string]string{"a": "1"}).Counter("switchback_conflict_total").Inc(1)
	mh.WithTags(map[string]string{"b": "1"}).Counter("switchback_conflict_total").Inc(1)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, tel.Handler()); !strings.Contains(body, "switchback_conflict_total") {
		t.Errorf("/metrics lacks the first registration:\n%s", body)
	}
}

// newRecorder returns a tracer provider that keeps its spans in memory.
func newRecorder(t *testing.T) (trace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, exp
}

func TestWrapHTTP(t *testing.T) {
	tp, exp := newRecorder(t)
	tel, err := New(context.Background(), Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	var inner trace.SpanContext
	h := tel.WrapHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			inner = trace.SpanContextFromContext(r.Context())
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	// A caller's trace continues through the traceparent header.
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil))

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1 (scrapes are not traced): %v", len(spans), spans)
	}
	s := spans[0]
	if s.SpanKind != trace.SpanKindServer || s.Name != http.MethodPost {
		t.Errorf("span %q kind %v, want a server span named POST", s.Name, s.SpanKind)
	}
	if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s, want the caller's", got)
	}
	if inner.SpanID() != s.SpanContext.SpanID() {
		t.Errorf("the handler's context does not carry the server span")
	}
}
