// Package bench measures Switchback against a hand-written Temporal workflow
// of the same shape, on the same embedded server in the same run: journey
// throughput, the fallback path, webhook ingestion and the cost of journeys
// that sit waiting.
//
// Everything runs in one process on loopback: the Temporal server
// (internal/devstack, SQLite in memory or in a file), the workers, the HTTP
// server with the webhooks, and the sandbox providers answering at once.
// The `switchback bench` command and the Go benchmarks in this package drive
// it; each result is one Result line that a script can read.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/devstack"
	"github.com/switchbackhq/switchback/internal/keys"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
)

// Options configures an Env.
type Options struct {
	// DataDir keeps Temporal's SQLite database (with WAL) and the store in
	// files under this directory. Empty: Temporal in memory, the store in a
	// temporary directory removed by Close.
	DataDir string
	// StatusDelay is the sandbox's pause before each status callback.
	// Zero means none: the providers answer at once.
	StatusDelay time.Duration
	// Logger receives the server's warnings. Nil discards them.
	Logger *slog.Logger
	// DatabaseURL, if set, puts the store on PostgreSQL
	// (SWITCHBACK_DATABASE_URL); otherwise SQLite under DataDir.
	DatabaseURL string
	// WorkerBinary, if set, runs Switchback's workers as `WorkerBinary
	// worker` in a process of their own, so that their memory is measured
	// apart from the server's (Env.WorkerRSS); otherwise in this process.
	WorkerBinary string
	// TemporalAddress, if set, is the host:port of a Temporal server of
	// its own (Temporal's server over PostgreSQL, say) that the Env uses
	// instead of starting one: its namespace must be set up as `switchback
	// setup` does. The waiting and broadcast benchmarks, which measure the
	// embedded server's files, refuse such an Env.
	TemporalAddress string
	// TemporalNamespace is TemporalAddress's namespace; empty means
	// "default".
	TemporalNamespace string
	// TemporalTLS and TemporalAPIKey are how clients reach
	// TemporalAddress, as SWITCHBACK_TEMPORAL_TLS_* and
	// SWITCHBACK_TEMPORAL_API_KEY say: empty, plain gRPC.
	TemporalTLS    config.TemporalTLS
	TemporalAPIKey string
}

// Env is a whole Switchback in this process, plus the baseline worker.
type Env struct {
	// Client is connected to the embedded Temporal server.
	Client client.Client
	// Sandbox is the provider lookalike the channels send to.
	Sandbox *sandbox.Sandbox
	// Config is Switchback's configuration, with the sandbox credentials.
	Config config.Config
	// SandboxConfig is the sandbox's configuration (its secrets sign
	// callbacks).
	SandboxConfig sandbox.Config
	// DataDir holds the databases (a temporary directory when in memory).
	DataDir string
	// InMemory reports whether Temporal keeps its data in memory.
	InMemory bool
	// Remote reports whether Temporal is a server of its own
	// (Options.TemporalAddress), not one in this process.
	Remote bool

	stack   *devstack.Stack
	store   store.Store
	workers []worker.Worker
	// worker is the workers' process, when they run in one.
	worker *exec.Cmd
	// stopEvents stops the event stream (app.StartEventStream).
	stopEvents func()
	cancel     context.CancelFunc
	served     chan error
	tempDir    string
}

// Start starts an Env. Close it when done.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	e := &Env{DataDir: opts.DataDir, Remote: opts.TemporalAddress != ""}
	e.InMemory = opts.DataDir == "" && !e.Remote
	var ln net.Listener
	defer func() {
		if err != nil {
			if ln != nil && e.served == nil {
				ln.Close()
			}
			e.Close()
		}
	}()
	if e.DataDir == "" {
		if e.tempDir, err = os.MkdirTemp("", "switchback-bench-"); err != nil {
			return nil, fmt.Errorf("bench: temporary directory: %w", err)
		}
		e.DataDir = e.tempDir
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: listen: %w", err)
	}
	cfg, err := benchConfig()
	if err != nil {
		return nil, err
	}
	cfg.DatabaseURL = opts.DatabaseURL
	cfg.TemporalTLS, cfg.TemporalAPIKey = opts.TemporalTLS, opts.TemporalAPIKey
	cfg.HTTPAddr = ln.Addr().String()
	cfg.DataDir = e.DataDir
	cfg, sc, _ := app.UseSandbox(cfg)
	sc.StatusDelay = opts.StatusDelay
	if sc.StatusDelay == 0 {
		sc.StatusDelay = -1 // no pause
	}
	e.Config, e.SandboxConfig = cfg, sc
	if e.Sandbox, err = sandbox.New(sc); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	if cfg.TemporalAddress, cfg.TemporalNamespace, err = e.startTemporal(ctx, opts); err != nil {
		return nil, err
	}
	if e.store, err = app.OpenStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	e.Config = cfg
	copts, err := app.ClientOptions(cfg, sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), nil)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if e.Client, err = client.DialContext(ctx, copts); err != nil {
		return nil, fmt.Errorf("bench: connect to Temporal: %w", err)
	}
	if e.Remote {
		if err := checkNoWorkers(ctx, e.Client, cfg.TemporalNamespace); err != nil {
			return nil, err
		}
	}
	var ws []worker.Worker
	if opts.WorkerBinary != "" {
		err = e.startWorkerProcess(opts.WorkerBinary)
	} else {
		ws, err = app.Workers(e.Client, app.WorkerOptions{Config: cfg, Store: e.store, Journeys: findJourney})
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	senders, err := app.Senders(cfg, e.store)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	ws = append(ws, baselineWorker(e.Client, &BaselineActivities{Senders: senders, Messages: e.store}))
	if err := app.StartWorkers(ws); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	e.workers = ws
	if e.stopEvents, err = app.StartEventStream(context.WithoutCancel(ctx), cfg, e.store, nil); err != nil { // Close stops it
		return nil, fmt.Errorf("bench: %w", err)
	}

	h := app.HTTPHandler(app.HTTPOptions{
		Config: cfg, Temporal: e.Client, Messages: e.store,
		Extra: map[string]http.Handler{app.SandboxPrefix + "/": app.SandboxHandler(e.Sandbox.Handler())},
	})
	sctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.served = cancel, make(chan error, 1)
	go func() { e.served <- app.Serve(sctx, ln, h) }()
	return e, nil
}

// startTemporal starts the embedded Temporal server, unless opts names
// one of its own, and returns the frontend's address and the namespace.
func (e *Env) startTemporal(ctx context.Context, opts Options) (addr, namespace string, err error) {
	if e.Remote {
		return opts.TemporalAddress, cmp.Or(opts.TemporalNamespace, "default"), nil
	}
	attrs := map[string]enumspb.IndexedValueType{}
	for _, name := range journeys.SearchAttributeNames() {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	e.stack, err = devstack.Start(ctx, devstack.Options{
		DataDir:          filepath.Join(e.DataDir, "temporal"),
		InMemory:         e.InMemory,
		FrontendAddr:     "127.0.0.1:0",
		DisableUI:        true,
		SearchAttributes: attrs,
		Logger:           opts.Logger,
	})
	if err != nil {
		return "", "", fmt.Errorf("bench: start Temporal: %w", err)
	}
	return e.stack.FrontendAddr(), e.stack.Namespace(), nil
}

// recentPoll is how long after its last poll a worker still counts as
// polling: a live one polls again within about a minute.
const recentPoll = 2 * time.Minute

// checkNoWorkers fails when workers other than the Env's poll the
// journeys' task queue of a remote namespace: they would take journeys the
// benchmark starts, run them under their own keys and rate limits, and
// skew or fail the run.
func checkNoWorkers(ctx context.Context, c client.Client, namespace string) error {
	resp, err := c.DescribeTaskQueue(ctx, journeys.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("bench: describe task queue %s: %w", journeys.TaskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < recentPoll {
			return fmt.Errorf("bench: workers poll task queue %q in namespace %q (%s, last %s ago): they would run the benchmark's journeys; use a namespace of its own (SWITCHBACK_TEMPORAL_NAMESPACE=NS switchback setup, then --namespace NS), or wait %s after they stop",
				journeys.TaskQueue, namespace, p.GetIdentity(), time.Since(p.GetLastAccessTime().AsTime()).Round(time.Second), recentPoll)
		}
	}
	return nil
}

// startWorkerProcess starts `bin worker` under the Env's configuration,
// its log in worker.log under the data directory.
func (e *Env) startWorkerProcess(bin string) error {
	log, err := os.Create(filepath.Join(e.DataDir, "worker.log"))
	if err != nil {
		return fmt.Errorf("worker log: %w", err)
	}
	defer log.Close() // the process has its own descriptor
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(app.WorkerEnviron(e.Config), "SWITCHBACK_METRICS_ADDR=127.0.0.1:0", "PATH="+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the worker process: %w", err)
	}
	e.worker = cmd
	return nil
}

// WorkerRSS returns the resident set size of the workers' process, or 0
// when the workers run in this process (Options.WorkerBinary unset).
func (e *Env) WorkerRSS() int64 {
	if e.worker == nil {
		return 0
	}
	return processRSS(e.worker.Process.Pid)
}

// benchConfig is the production configuration with a fresh encryption key
// (journeys and the baseline pay for the same codec) and no channel rate
// limits: the benchmark measures the engine, not the providers' caps.
func benchConfig() (config.Config, error) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		return config.Config{}, fmt.Errorf("bench: config: %w", err)
	}
	p, err := keys.New(time.Now())
	if err != nil {
		return config.Config{}, fmt.Errorf("bench: %w", err)
	}
	if cfg, err = app.WithKeys(cfg, p); err != nil {
		return config.Config{}, fmt.Errorf("bench: %w", err)
	}
	// No rate limits: the benchmark measures Switchback, not the providers.
	noLimits := map[string]string{}
	for _, ch := range app.Channels().Channels("") {
		noLimits["SWITCHBACK_RATE_"+strings.ToUpper(string(ch))] = "0"
	}
	return cfg.WithSettings(noLimits), nil
}

// Close stops everything Start started, in reverse order.
func (e *Env) Close() error {
	var errs []error
	if e.cancel != nil {
		e.cancel()
		if err := <-e.served; err != nil {
			errs = append(errs, err)
		}
	}
	if e.Sandbox != nil {
		e.Sandbox.Close()
	}
	if e.stopEvents != nil {
		e.stopEvents()
	}
	app.StopWorkers(e.workers)
	if w := e.worker; w != nil {
		// SIGTERM stops a worker as a deploy does; it exits 0.
		if err := w.Process.Signal(syscall.SIGTERM); err == nil {
			errs = append(errs, w.Wait())
		}
	}
	if e.Client != nil {
		e.Client.Close()
	}
	if e.store != nil {
		errs = append(errs, e.store.Close())
	}
	if e.stack != nil {
		errs = append(errs, e.stack.Stop())
	}
	if e.tempDir != "" {
		errs = append(errs, os.RemoveAll(e.tempDir))
	}
	return errors.Join(errs...)
}

// WebhookURL returns the URL of a webhook route, such as "/webhooks/whatsapp".
func (e *Env) WebhookURL(path string) string { return e.Config.PublicURLOrDefault() + path }

// TemporalFiles returns the paths of Temporal's database files (the
// database and its WAL), for measuring their size. Empty when in memory
// or remote.
func (e *Env) TemporalFiles() []string {
	if e.InMemory || e.Remote {
		return nil
	}
	db := filepath.Join(e.DataDir, "temporal", devstack.DatabaseFile)
	return []string{db, db + "-wal", db + "-shm"}
}
