// Package apptest starts a whole Switchback on a real in-process Temporal
// server for end-to-end tests.
package apptest

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/httpauth"
	"github.com/switchbackhq/switchback/internal/keys"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/webhooks"
	"github.com/switchbackhq/switchback/workflows"
)

// Stack is Switchback wired as `switchback dev` wires it, on a real
// in-process Temporal server (temporaltest, in-memory SQLite), with the
// sandbox providers on loopback.
type Stack struct {
	Client  client.Client
	Sandbox *sandbox.Sandbox
	// Namespace and FrontendAddr locate the Temporal server.
	Namespace    string
	FrontendAddr string
	// HTTPAddr is the address of Switchback's HTTP server.
	HTTPAddr string
	// MetricsAddr is the address of the metrics server: /metrics (with
	// Options.Telemetry), /healthz, /readyz.
	MetricsAddr string
	// Config is Switchback's configuration: the sandbox's credentials, the
	// HTTP address and the data directory of the store.
	Config config.Config
	// SandboxConfig is the sandbox's configuration.
	SandboxConfig sandbox.Config
	// Proxy stands between the webhooks and Temporal when
	// Options.WebhookProxy is set; nil otherwise.
	Proxy *Proxy
	// Store is the store of the in-process workers and the webhooks:
	// contacts, the message index, the message event log.
	Store store.Store
	// DataConverter is Client's: it encrypts with Config's key, unless
	// Options.Plaintext.
	DataConverter converter.DataConverter
}

// Start starts a Stack; t's cleanup stops it.
func Start(t *testing.T) *Stack {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith starts a Stack configured by opts; t's cleanup stops it.
func StartWith(t *testing.T, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := stackConfig(t, ln.Addr().String(), opts)
	// The client and workers are those of production: payloads and
	// failures encrypted, logs and metrics where opts sends them.
	var logger sdklog.Logger
	if opts.Logger != nil {
		logger = sdklog.NewStructuredLogger(opts.Logger)
	}
	base, err := app.ClientOptions(cfg, logger, opts.Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	base.HostPort, base.Namespace = "", "" // the test server's
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(base))
	c := ts.GetDefaultClient()
	cfg.TemporalAddress, cfg.TemporalNamespace = ts.GetFrontendHostPort(), ts.GetDefaultNamespace()
	attrs := map[string]enumspb.IndexedValueType{}
	for _, name := range journeys.SearchAttributeNames() {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ts.GetDefaultNamespace(), SearchAttributes: attrs,
	}); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}

	cfg, sc, _ := app.UseSandbox(cfg)
	sc.StatusDelay = 20 * time.Millisecond
	sc.Logger = opts.Logger
	if opts.StatusDelay != 0 {
		sc.StatusDelay = opts.StatusDelay
	}
	if opts.Sandbox != nil {
		opts.Sandbox(&sc)
	}
	sb, err := sandbox.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if !opts.NoWorkers {
		ws, err := app.Workers(c, app.WorkerOptions{Config: cfg, Store: st, Logger: opts.Logger, Telemetry: opts.Telemetry})
		if err != nil {
			t.Fatal(err)
		}
		if err := app.StartWorkers(ws); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.StopWorkers(ws) })
		stopEvents, err := app.StartEventStream(ctx, cfg, st, opts.Logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stopEvents)
	}

	s := &Stack{Client: c, Sandbox: sb, Namespace: ts.GetDefaultNamespace(), FrontendAddr: ts.GetFrontendHostPort(),
		HTTPAddr: cfg.HTTPAddr, Config: cfg, SandboxConfig: sc, Store: st, DataConverter: base.DataConverter}
	var signaler webhooks.Signaler = c
	if opts.WebhookProxy {
		s.Proxy = NewProxy(t, s.FrontendAddr)
		po := base
		po.HostPort, po.Namespace = s.Proxy.Addr(), s.Namespace
		pc, err := client.NewLazyClient(po)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pc.Close)
		signaler = pc
	}
	if opts.SignalTimeout > 0 {
		signaler = timeoutSignaler{signaler, opts.SignalTimeout}
	}
	providers := app.SandboxHandler(sb.Handler())
	if opts.Providers != nil {
		providers = app.SandboxHandler(opts.Providers(sb.Handler()))
	}
	// The /v1 API without a token, as `dev` serves it on loopback.
	apiH, err := app.APIHandler(c, cfg, st, opts.Logger, httpauth.Local)
	if err != nil {
		t.Fatal(err)
	}
	h := app.HTTPHandler(app.HTTPOptions{
		Config: cfg, Temporal: signaler, Messages: st, Logger: opts.Logger,
		Extra:     map[string]http.Handler{app.SandboxPrefix + "/": providers},
		Telemetry: opts.Telemetry,
		API:       apiH,
	})
	if opts.Webhooks != nil {
		h = routeWebhooks(h, opts.Webhooks(h))
	}
	serve(t, ctx, cancel, ln, h)
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.MetricsAddr = mln.Addr().String()
	serve(t, ctx, cancel, mln, app.MetricsHandler(app.MetricsOptions{Telemetry: opts.Telemetry, Temporal: c, Store: st, Logger: opts.Logger}))
	return s
}

// serve serves h on ln until t's cleanup calls cancel.
func serve(t *testing.T, ctx context.Context, cancel func(), ln net.Listener, h http.Handler) {
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// stackConfig is the production configuration from an empty environment,
// with a fresh encryption key unless opts.Plaintext, the HTTP server on
// httpAddr, the data directory in t's, then opts.Configure's changes.
func stackConfig(t *testing.T, httpAddr string, opts Options) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr = httpAddr
	cfg.DataDir = t.TempDir()
	if opts.Plaintext {
		cfg.InsecurePlaintext = true
	} else {
		p, err := keys.New(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p.Contact = "" // the development contact key, which tests hash numbers with
		if cfg, err = app.WithKeys(cfg, p); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	return cfg
}

// Run is a finished journey.
type Run struct {
	ID       string
	Result   workflows.Result
	Timeline workflows.Timeline
}

// RunOTP runs the built-in otp journey to to, with code 493817, until it
// ends: when the code has been delivered, it verifies the code as the
// customer would.
func (s *Stack) RunOTP(t *testing.T, to string) Run {
	t.Helper()
	return s.RunOTPWithEmail(t, to, "")
}

// RunOTPWithEmail is RunOTP with an email address for the journey's email
// attempt.
func (s *Stack) RunOTPWithEmail(t *testing.T, to, email string) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := journeys.Builtin("otp", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{
		Journey: j, To: to, Email: email, Vars: map[string]string{"code": "493817"}, ContactKey: []byte(config.DevContactKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The customer types the code once it has arrived.
	settled, err := journeys.WaitSettled(ctx, s.Client, run.GetID(), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if settled.Awaiting != "" {
		if _, err := journeys.Verify(ctx, s.Client, run.GetID(), "493817"); err != nil {
			t.Fatal(err)
		}
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("journey: %v", err)
	}
	tl, err := journeys.GetTimeline(ctx, s.Client, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	return Run{ID: run.GetID(), Result: res, Timeline: tl}
}

// WriteHistory writes the event history of workflow id to file as JSON, in
// the form `temporal workflow show -o json` writes and the SDK's
// WorkflowReplayer reads.
func (s *Stack) WriteHistory(t *testing.T, id, file string) {
	t.Helper()
	ctx := context.Background()
	var h historypb.History
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		h.Events = append(h.Events, ev)
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
