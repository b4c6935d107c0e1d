// Package telemetry gives a Switchback process its Prometheus metrics and
// its OpenTelemetry tracing.
//
// Metrics: one Prometheus registry per process holds the Temporal SDK's
// metrics (through a tally scope with a Prometheus reporter, handed to the
// client as client.Options.MetricsHandler), the journey counters that the
// activities count as they write the message event log (see
// activities.NewMetrics), Switchback's HTTP counters, and the Go and
// process collectors. Handler serves them for /metrics.
//
// Tracing is off unless the standard OpenTelemetry variables ask for it
// (see TracingEnabled): spans then go to an OTLP/gRPC exporter, which reads
// the OTEL_EXPORTER_OTLP_* variables itself. The Temporal client gets the
// SDK's OpenTelemetry interceptor and the HTTP server otelhttp.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	contribotel "go.temporal.io/sdk/contrib/opentelemetry"
	contribtally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/interceptor"
)

// DefaultServiceName is the service.name of spans when OTEL_SERVICE_NAME
// is unset.
const DefaultServiceName = "switchback"

// DefaultReportInterval is how often the SDK's counters reach the registry.
const DefaultReportInterval = time.Second

// Options configure New. The zero value gives metrics and no tracing.
type Options struct {
	// Getenv reads the OTEL_* variables (os.Getenv in a process, a map in
	// tests). Nil reads none: tracing stays off.
	Getenv func(string) string
	// TracerProvider, if set, receives the spans instead of an exporter
	// configured from the environment (tests pass one with an in-memory
	// exporter). Its shutdown stays with the caller.
	TracerProvider trace.TracerProvider
	// ReportInterval is how often the SDK's counters reach the registry
	// (default DefaultReportInterval). Timers reach it at once.
	ReportInterval time.Duration
	// Logger receives metric registration conflicts and exporter errors.
	// Nil discards them.
	Logger *slog.Logger
}

// Telemetry is a process's metrics registry and tracer. Create it with
// New and call Shutdown before the process exits.
type Telemetry struct {
	registry *prometheus.Registry
	closer   io.Closer
	sdk      client.MetricsHandler
	logger   *slog.Logger

	tp         trace.TracerProvider // nil: tracing is off
	shutdownTP func(context.Context) error
	propagator propagation.TextMapPropagator
}

// New creates the registry, the SDK's metrics handler and, when the
// environment asks for it, the OTLP trace exporter.
func New(ctx context.Context, opts Options) (*Telemetry, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	interval := opts.ReportInterval
	if interval <= 0 {
		interval = DefaultReportInterval
	}

	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		// The default panics. A metric whose labels change between uses
		// cannot be registered twice: log it and drop that series.
		OnRegisterError: func(err error) { logger.Warn("metric not registered", "error", err) },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &contribtally.PrometheusSanitizeOptions,
	}, interval)
	t := &Telemetry{
		registry:   reg,
		closer:     closer,
		sdk:        contribtally.NewMetricsHandler(contribtally.NewPrometheusNamingScope(scope)),
		logger:     logger,
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}

	switch {
	case opts.TracerProvider != nil:
		t.tp = opts.TracerProvider
	default:
		on, err := TracingEnabled(getenv)
		if err != nil {
			closer.Close()
			return nil, err
		}
		if on {
			tp, err := newTracerProvider(ctx, getenv)
			if err != nil {
				closer.Close()
				return nil, err
			}
			t.tp, t.shutdownTP = tp, tp.Shutdown
		}
	}
	return t, nil
}

// TracingEnabled reports whether the environment asks for traces:
// OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. An exporter other
// than otlp or none is an error.
func TracingEnabled(getenv func(string) string) (bool, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return false, nil
	}
	switch exp := strings.ToLower(get("OTEL_TRACES_EXPORTER")); exp {
	case "otlp":
		return true, nil
	case "none":
		return false, nil
	case "":
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: Switchback exports traces with otlp (or none)", exp)
	}
	return get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
}

// newTracerProvider returns a tracer provider that batches spans to an
// OTLP/gRPC exporter configured by the OTEL_EXPORTER_OTLP_* variables.
func newTracerProvider(ctx context.Context, getenv func(string) string) (*sdktrace.TracerProvider, error) {
	if p := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL")); p != "" && p != "grpc" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: Switchback exports traces over grpc", p)
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	name := strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if name == "" {
		name = DefaultServiceName
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// Registry returns the process's Prometheus registry, for Switchback's
// own collectors.
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler returns the Temporal SDK's metrics handler
// (client.Options.MetricsHandler). Counter names end in _total and timers
// in _seconds, as Prometheus names them.
func (t *Telemetry) MetricsHandler() client.MetricsHandler { return t.sdk }

// Handler serves the registry in the Prometheus text format (/metrics).
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		Registry: t.registry,
		ErrorLog: slog.NewLogLogger(t.logger.Handler(), slog.LevelWarn),
	})
}

// Tracing reports whether spans are recorded.
func (t *Telemetry) Tracing() bool { return t.tp != nil }

// Interceptors returns the Temporal client interceptors: the SDK's
// OpenTelemetry tracing interceptor when tracing is on, else none. Workers
// created from the client use them too.
func (t *Telemetry) Interceptors() ([]interceptor.ClientInterceptor, error) {
	if t.tp == nil {
		return nil, nil
	}
	i, err := contribotel.NewTracingInterceptor(contribotel.TracerOptions{
		Tracer:            t.tp.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// Instrument sets opts' metrics handler and adds the tracing interceptor
// when tracing is on.
func (t *Telemetry) Instrument(opts *client.Options) error {
	opts.MetricsHandler = t.sdk
	is, err := t.Interceptors()
	if err != nil {
		return err
	}
	opts.Interceptors = append(opts.Interceptors, is...)
	return nil
}

// WrapHTTP returns h with a server span for each request when tracing is
// on (otelhttp), else h. Scrapes and health checks are not traced.
func (t *Telemetry) WrapHTTP(h http.Handler) http.Handler {
	if t.tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, DefaultServiceName,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/metrics", "/healthz", "/readyz":
				return false
			}
			return true
		}),
	)
}

// Shutdown reports the SDK's last counters to the registry and flushes
// the spans not yet exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if err := t.closer.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close metrics scope: %w", err))
	}
	if t.shutdownTP != nil {
		if err := t.shutdownTP(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush traces: %w", err))
		}
	}
	return errors.Join(errs...)
}
