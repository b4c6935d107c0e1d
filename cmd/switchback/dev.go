//go:build !nodev

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/devstack"
	"github.com/switchbackhq/switchback/internal/httpauth"
	"github.com/switchbackhq/switchback/internal/keys"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/templates"
)

func runDev(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dev", "dev [--temporal-port 7233] [--ui-port 8233] [--http-addr 127.0.0.1:8080] [--in-memory] [--data-dir .switchback]")
	temporalPort := fs.Int("temporal-port", 7233, "Temporal frontend (gRPC) port")
	uiPort := fs.Int("ui-port", 8233, "Temporal Web UI port")
	httpAddr := fs.String("http-addr", "", "Switchback HTTP address (default SWITCHBACK_HTTP_ADDR or 127.0.0.1:8080)")
	inMemory := fs.Bool("in-memory", false, "keep Temporal's data in memory instead of under --data-dir")
	dataDir := fs.String("data-dir", "", "data directory (default SWITCHBACK_DATA_DIR or .switchback)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if err := checkBuiltins(); err != nil {
		return err
	}
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return err
	}
	if *httpAddr != "" {
		cfg.HTTPAddr = *httpAddr
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	// Encrypted from the first start: dev keeps its own keys in the data
	// directory, where the other commands find them.
	devKeys, err := keys.LoadOrCreate(cfg.DataDir, time.Now())
	if err != nil {
		return fmt.Errorf("dev keys: %w", err)
	}
	if cfg, err = app.WithKeys(cfg, devKeys); err != nil {
		return err
	}
	cfg.TemporalAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(*temporalPort))
	uiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*uiPort))
	if e.getenv("SWITCHBACK_CODEC_CORS_ORIGIN") == "" {
		cfg.CodecCORSOrigin = "http://" + uiAddr
	}
	log := newDevLogger(e, cfg)

	// Every port is checked before anything starts: the Web UI would exit
	// the process on a taken port.
	if err := devstack.CheckPorts(
		devstack.NamedAddr{Name: "Temporal frontend", Addr: cfg.TemporalAddress, Flag: "--temporal-port"},
		devstack.NamedAddr{Name: "Temporal Web UI", Addr: uiAddr, Flag: "--ui-port"},
	); err != nil {
		return err
	}
	ln, err := app.Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	mln, err := app.ListenMetrics(cfg.MetricsAddr)
	if err != nil {
		return err
	}
	defer mln.Close()

	cfg, sc, sandboxed := app.UseSandbox(cfg)
	sc.Logger = log.With("component", "sandbox")
	sb, err := sandbox.New(sc)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer sb.Close()

	attrs := map[string]enumspb.IndexedValueType{}
	for _, name := range journeys.SearchAttributeNames() {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	stack, err := devstack.Start(ctx, devstack.Options{
		DataDir:          cfg.DataDir,
		InMemory:         *inMemory,
		Namespace:        cfg.TemporalNamespace,
		FrontendAddr:     cfg.TemporalAddress,
		UIAddr:           uiAddr,
		SearchAttributes: attrs,
		Logger:           log.With("component", "temporal"),
		CodecEndpoint:    app.CodecEndpoint(cfg),
	})
	if err != nil {
		return fmt.Errorf("start Temporal: %w", err)
	}
	defer stack.Stop()

	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// One process, one registry: the metrics server's /metrics shows the
	// workers', the webhooks' and the SDK's metrics together.
	tel, stopTelemetry, err := startTelemetry(ctx, e, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	c, err := dialWith(ctx, cfg, log, tel)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := app.Workers(c, app.WorkerOptions{Config: cfg, Store: st, Logger: log, Telemetry: tel})
	if err != nil {
		return err
	}
	if err := app.StartWorkers(ws); err != nil {
		return err
	}
	defer app.StopWorkers(ws)
	if v := cfg.Worker; v.Versioned() {
		// dev's workers are the deployment's only ones: their build is
		// current at once, as `switchback rollout` would make it.
		h := c.WorkerDeploymentClient().GetHandle(v.Deployment)
		if err := setCurrent(ctx, h, v.BuildID, time.Minute); err != nil {
			return fmt.Errorf("make build %q current in deployment %s: %w", v.BuildID, v.Deployment, err)
		}
	}
	stopEvents, err := app.StartEventStream(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer stopEvents()

	// Without a token, the API and the codec (whose caller, the embedded
	// Web UI, sends none) answer only callers on this machine that name it:
	// not a tunnel, a proxy or a page that rebinds its DNS name.
	apiH, err := app.APIHandler(c, cfg, st, log, exemptUnless(cfg.APIToken))
	if err != nil {
		return err
	}
	// The console likewise needs no login on this machine without a token.
	consoleCfg := cfg
	if consoleCfg.Console.TemporalUIURL == "" {
		consoleCfg.Console.TemporalUIURL = stack.UIURL()
	}
	consoleH, err := app.ConsoleHandler(app.ConsoleOptions{Client: c, Config: consoleCfg, Store: st, Logger: log, Exempt: exemptUnless(cfg.Console.Token)})
	if err != nil {
		return err
	}
	h := app.HTTPHandler(app.HTTPOptions{
		Config: cfg, Temporal: c, Messages: st, Logger: log, API: apiH, Console: consoleH,
		Extra:     map[string]http.Handler{app.SandboxPrefix + "/": app.SandboxHandler(sb.Handler())},
		Exempt:    exemptUnless(cfg.CodecToken),
		Telemetry: tel,
	})
	mh := app.MetricsHandler(app.MetricsOptions{Telemetry: tel, Temporal: c, Store: st, Logger: log})
	storage := filepath.Join(cfg.DataDir, "temporal.db")
	if *inMemory {
		storage = "in memory"
	}
	if slices.Contains(sandboxed, "WhatsApp") {
		// The sandbox's templates fill the registry, so that template
		// checks run in dev as they do against Meta. The listener is bound:
		// the request waits until the server below serves it.
		go func() {
			w := cfg.WhatsApp
			sc := templates.SyncConfig{APIURL: w.APIURL, WABAID: w.WABAID, AccessToken: w.AccessToken, PhoneNumberID: w.PhoneNumberID}
			n, err := templates.Sync(ctx, sc, app.TemplateRegistry(st))
			if err != nil {
				log.Warn("sync sandbox templates", "error", err)
				return
			}
			tier, err := templates.SyncTier(ctx, sc, st.SetNumberState, time.Now())
			if err != nil {
				log.Warn("read the sandbox number's messaging limit", "error", err)
			}
			log.Info("synced sandbox templates", "templates", n, "messaging_limit", tier)
		}()
	}
	base, local := cfg.PublicURLOrDefault(), "http://"+cfg.HTTPAddr
	fmt.Fprintf(e.stdout, `Switchback dev is running.
  Temporal      %s (namespace %s, data %s)
  Web UI        %s
  Webhooks      %s/webhooks/whatsapp, %s%s, %s/webhooks/twilio/inbound, %s%s
  Sandbox       %s (providers: %v)
  HTTP API      %s/v1 (OpenAPI at %s/v1/openapi.json)
  Console       %s/console/ (%s)
  Metrics       http://%s/metrics (and /readyz)
  Encryption    payloads and failures encrypted with the keys in %s; the Web UI decodes through %s

Try:  go run ./cmd/switchback start otp --to +15551234567 --var code=493817 --wait
Stop with Ctrl-C.
`, cfg.TemporalAddress, cfg.TemporalNamespace, storage, stack.UIURL(),
		base, base, app.TwilioStatusPath, base, base, app.SendGridEventsPath,
		local+app.SandboxPrefix, sandboxed, local, local, local, consoleLogin(cfg), cfg.MetricsAddr, cfg.DataDir, app.CodecEndpoint(cfg))
	err = serveBoth(ctx, ln, h, mln, mh)
	fmt.Fprintln(e.stderr, "Switchback dev stopping")
	return err
}

// consoleLogin says how the console is entered.
func consoleLogin(cfg config.Config) string {
	if cfg.Console.Token != "" {
		return "log in with SWITCHBACK_CONSOLE_TOKEN"
	}
	return "no login from this machine"
}

// exemptUnless returns httpauth.Local when token is unset, nil otherwise:
// with a token set, every caller must send it.
func exemptUnless(token string) func(*http.Request) bool {
	if token != "" {
		return nil
	}
	return httpauth.Local
}
