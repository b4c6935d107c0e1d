package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchbackhq/switchback/internal/telemetry"
	"github.com/switchbackhq/switchback/promreg"
	"github.com/switchbackhq/switchback/store"
)

// Names of the webhook counters on /metrics.
const (
	// MetricWebhookRequests counts webhook requests by provider and
	// result (the HTTP status code answered).
	MetricWebhookRequests = "switchback_webhook_requests_total"
	// MetricSignatureFailures counts webhook requests refused for a bad
	// or missing signature, by provider.
	MetricSignatureFailures = "switchback_webhook_signature_failures_total"
	// MetricOtherNumber counts WhatsApp webhook changes ignored because
	// they concern another phone number of the same Meta app.
	MetricOtherNumber = "switchback_webhook_other_number_total"
)

// webhookMetrics counts the webhook requests.
type webhookMetrics struct {
	requests    *prometheus.CounterVec
	signatures  *prometheus.CounterVec
	otherNumber *prometheus.CounterVec
}

// newWebhookMetrics registers the webhook counters on reg, or takes those
// already registered there.
func newWebhookMetrics(reg prometheus.Registerer) (*webhookMetrics, error) {
	requests, err := promreg.CounterVec(reg, prometheus.CounterOpts{
		Name: MetricWebhookRequests,
		Help: "Provider webhook requests, by provider and HTTP status answered.",
	}, "provider", "result")
	if err != nil {
		return nil, err
	}
	signatures, err := promreg.CounterVec(reg, prometheus.CounterOpts{
		Name: MetricSignatureFailures,
		Help: "Provider webhook requests refused for a bad or missing signature, by provider.",
	}, "provider")
	if err != nil {
		return nil, err
	}
	otherNumber, err := promreg.CounterVec(reg, prometheus.CounterOpts{
		Name: MetricOtherNumber,
		Help: "WhatsApp webhook changes ignored because they concern another phone number of the Meta app.",
	})
	if err != nil {
		return nil, err
	}
	return &webhookMetrics{requests: requests, signatures: signatures, otherNumber: otherNumber}, nil
}

// otherNumberIgnored counts a change of another phone number
// (webhooks.Config.OtherNumberIgnored).
func (m *webhookMetrics) otherNumberIgnored() { m.otherNumber.WithLabelValues().Inc() }

// signatureRejected counts a signature failure (webhooks.Config.SignatureRejected).
func (m *webhookMetrics) signatureRejected(provider string) {
	m.signatures.WithLabelValues(provider).Inc()
}

// wrap returns h counting each request by provider and the status it
// answered.
func (m *webhookMetrics) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(webhookProvider(r.URL.Path), strconv.Itoa(status)).Inc()
	})
}

// webhookProvider names the provider of a webhook path, or "other" for a
// path no provider calls (which keeps the label's values few).
func webhookProvider(path string) string {
	rest, _ := strings.CutPrefix(path, "/webhooks/")
	name, _, _ := strings.Cut(rest, "/")
	switch name {
	case "whatsapp", "twilio", "sendgrid":
		return name
	}
	return "other"
}

// statusWriter records the status a handler answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// MetricsOptions configures MetricsHandler.
type MetricsOptions struct {
	// Telemetry, if set, is served on GET /metrics.
	Telemetry *telemetry.Telemetry
	// Temporal and Store, each if set, are checked by GET /readyz.
	Temporal HealthChecker
	Store    store.Store
	// Logger receives the errors of failed readiness checks.
	Logger *slog.Logger
}

// MetricsHandler serves the metrics server (SWITCHBACK_METRICS_ADDR) of
// every long-running command: GET /metrics, GET /healthz, and GET /readyz
// (200 when Temporal and the store answer, else 503). These stay off the
// public HTTP port: keep the metrics address inside the network.
func MetricsHandler(opts MetricsOptions) http.Handler {
	mux := http.NewServeMux()
	if opts.Telemetry != nil {
		mux.Handle("GET /metrics", opts.Telemetry.Handler())
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyHandler(opts.Temporal, opts.Store, opts.Logger))
	return mux
}

// ListenMetrics listens on addr for the metrics server, with a one-line
// error when the address is taken.
func ListenMetrics(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for metrics (in use? set SWITCHBACK_METRICS_ADDR): %w", addr, err)
	}
	return ln, nil
}
