// Command switchback runs and drives Switchback, the lifecycle journey
// engine: `switchback dev` runs everything in one process with sandbox
// providers; the other commands start, inspect and cancel journeys, or run
// the worker and the webhook server against an existing Temporal.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/keys"
	"github.com/switchbackhq/switchback/internal/telemetry"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run everything in one process: Temporal, Web UI, worker, webhooks, sandbox providers", runDev},
		{"worker", "run the journey worker against an existing Temporal", runWorker},
		{"serve", "run the webhook HTTP server against an existing Temporal", runServe},
		{"setup", "create the namespace and search attributes on a self-hosted Temporal: setup [--retention 168h]", runSetup},
		{"rollout", "make a worker build current in its Worker Deployment, or show the deployment: rollout [BUILD_ID]", runRollout},
		{"start", "start a journey: start JOURNEY|--file F --to NUMBER --var k=v [--id KEY] [--wait]", runStart},
		{"status", "show a journey's timeline: status ID [--json]", runStatus},
		{"cancel", "cancel a running journey: cancel ID", runCancel},
		{"contacts", "import contacts or show one: contacts import FILE.csv | contacts show NUMBER", runContacts},
		{"segment", "audiences: segment save NAME [filters] | import NAME FILE.csv | show NAME | list", runSegment},
		{"broadcast", "send a journey to a segment: broadcast start JOURNEY --segment S [--var k=v] [--rate R] | status|pause|resume|cancel ID", runBroadcast},
		{"consent", "record consent: consent grant|withdraw NUMBER --channel C --purpose P [--source S]", runConsent},
		{"report", "message counts per journey, step, channel, template: report [--journey J] [--since 7d] [--csv]", runReport},
		{"verify", "check the code a customer typed: verify ID CODE", runVerify},
		{"signal", "send an event to a journey: signal ID EVENT [--var k=v] [--start JOURNEY --to NUMBER [--start-var k=v]]", runSignal},
		{"list", "list journeys: list [--journey NAME] [--contact NUMBER] [--status OUTCOME]", runList},
		{"simulate", "try a journey with time skipping, sending nothing: simulate JOURNEY --scenario whatsapp=failed", runSimulate},
		{"graph", "draw a journey as SVG: graph JOURNEY|--file F > journey.svg", runGraph},
		{"validate", "check journey files: validate [FILE.yaml ...] (none: the built-in journeys)", runValidate},
		{"templates", "WhatsApp template registry: templates sync | templates list [--json]", runTemplates},
		{"bench", "measure journeys against a plain Temporal workflow: bench [--journeys 200]", runBench},
		{"probe", "health check for containers: probe URL (exit 0 on a 2xx answer)", runProbe},
		{"keys", "print a new SWITCHBACK_ENCRYPTION_KEY and SWITCHBACK_CONTACT_KEY for worker and serve", runKeys},
	}
}

// env is what every command gets from the process: output streams and the
// environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitError carries an exit status for an outcome that is not an error of
// the command itself, such as a journey that failed.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ue *usageError
		var ee *exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 2
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "switchback %s: %s\n", c.name, ue.msg)
			return 2
		case errors.As(err, &ee):
			if ee.msg != "" {
				fmt.Fprintln(e.stderr, ee.msg)
			}
			return ee.code
		default:
			fmt.Fprintf(e.stderr, "switchback %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "switchback: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: switchback COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `switchback COMMAND -h` for a command's flags.")
}

// parse parses flags and positional arguments in any order.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, err
		} else if err != nil {
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Parse errors are reported once, by run; -h prints the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: switchback %s\n", usage)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseID parses a command line that names one workflow id.
func parseID(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", &usageError{"give one workflow id"}
	}
	return pos[0], nil
}

// dialEnv connects to the Temporal that the environment names.
func dialEnv(ctx context.Context, e *env) (client.Client, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	return dial(ctx, cfg, newLogger(e, cfg))
}

// loadConfig reads the configuration from the environment. A key the
// environment does not set is taken from the data directory, where `dev`
// keeps its own: the commands run beside `dev` read and write journeys
// with its keys.
func loadConfig(e *env) (config.Config, error) {
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return config.Config{}, err
	}
	p, err := keys.Load(cfg.DataDir)
	if err != nil {
		return config.Config{}, err
	}
	return app.WithKeys(cfg, p)
}

// loadServerConfig reads the configuration of a production command
// (`worker`, `serve`) from the environment alone, and refuses to go on
// without the encryption and contact keys unless
// SWITCHBACK_INSECURE_PLAINTEXT=1, which it warns of.
func loadServerConfig(e *env) (config.Config, *slog.Logger, error) {
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	if err := cfg.CheckKeys(); err != nil {
		return config.Config{}, nil, err
	}
	log := newLogger(e, cfg)
	if cfg.InsecurePlaintext {
		log.Warn("SWITCHBACK_INSECURE_PLAINTEXT=1: payloads may be in clear in Temporal history and contact hashes may use the public development key; unset it in production",
			"encryption_key_set", len(cfg.EncryptionKeys) > 0, "contact_key_set", cfg.ContactKey != "")
	}
	return cfg, log, nil
}

// dial connects a client command to the configured Temporal. It needs
// the workers' encryption key (from SWITCHBACK_ENCRYPTION_KEY or dev's data
// directory): journeys written in clear would fail, and encrypted answers
// would not read.
func dial(ctx context.Context, cfg config.Config, logger *slog.Logger) (client.Client, error) {
	if len(cfg.EncryptionKeys) == 0 && !cfg.InsecurePlaintext {
		return nil, fmt.Errorf("no encryption key: set SWITCHBACK_ENCRYPTION_KEY to the workers' key, or run beside `switchback dev` (its keys are in %s; set SWITCHBACK_DATA_DIR if it uses another directory)", cfg.DataDir)
	}
	return dialWith(ctx, cfg, logger, nil)
}

// dialWith is dial with the client's (and its workers') metrics and
// traces going to tel; nil: nowhere.
func dialWith(ctx context.Context, cfg config.Config, logger *slog.Logger, tel *telemetry.Telemetry) (client.Client, error) {
	opts, err := clientOptions(cfg, logger, tel)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (SWITCHBACK_TEMPORAL_ADDRESS), namespace %s: %w",
			cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	return c, nil
}

// clientOptions are the options of cfg's Temporal clients (app.ClientOptions),
// logging to logger.
func clientOptions(cfg config.Config, logger *slog.Logger, tel *telemetry.Telemetry) (client.Options, error) {
	return app.ClientOptions(cfg, sdkLogger(logger), tel)
}

// sdkLogger quiets the SDK: its info lines are noise in a CLI.
func sdkLogger(l *slog.Logger) *slogAdapter {
	return &slogAdapter{l: l}
}

// varsFlag collects repeated --var k=v flags.
type varsFlag map[string]string

func (v varsFlag) String() string {
	parts := make([]string, 0, len(v))
	for k, val := range v {
		parts = append(parts, k+"="+val)
	}
	return strings.Join(parts, ",")
}

func (v varsFlag) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	v[k] = val
	return nil
}

// lazyClient returns a Temporal client that connects on first use, with
// its metrics and traces going to tel (nil: nowhere).
func lazyClient(cfg config.Config, logger *slog.Logger, tel *telemetry.Telemetry) (client.Client, error) {
	opts, err := clientOptions(cfg, logger, tel)
	if err != nil {
		return nil, err
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("Temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// startTelemetry creates the process's metrics registry and, when the
// OTEL_* variables ask for it, its trace exporter. Call the returned func
// before exiting: it flushes what is pending.
func startTelemetry(ctx context.Context, e *env, logger *slog.Logger) (*telemetry.Telemetry, func(), error) {
	tel, err := telemetry.New(ctx, telemetry.Options{Getenv: e.getenv, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: %w", err)
	}
	if tel.Tracing() {
		logger.Info("exporting traces over OTLP", "service", telemetry.DefaultServiceName)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			logger.Warn("telemetry shutdown", "error", err)
		}
	}
	return tel, stop, nil
}
