//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/bench"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// benchFlags are the settings of `switchback bench`.
type benchFlags struct {
	journeys, callbacks, waiting int
	parts                        []string
	cpuprofile                   string
	console                      bench.ConsoleOptions
	broadcast                    bench.BroadcastOptions
	databaseURL                  string
	// latencyRate is how many journeys, and then baseline workflows, the
	// latency benchmark starts a second.
	latencyRate float64
	// temporal and namespace name a Temporal server of its own for the
	// throughput and ingestion runs; empty: an in-process one.
	temporal, namespace string
}

func runBench(ctx context.Context, e *env, args []string) error {
	all := []string{"journey", "fallback", "webhook", "waiting", "console", "broadcast", "latency"}
	// remote are the benchmarks --temporal runs.
	remote := []string{"journey", "fallback", "webhook", "latency"}
	fs := newFlagSet(e, "bench", "bench [--journeys 200] [--callbacks 2000] [--waiting 1000] [--only journey,fallback,webhook,waiting|console|broadcast|latency] [--latency-rate 10] [--console-journeys 10000] [--console-events 1000000] [--broadcast 2000 [--broadcast-rate 1000] [--broadcast-page 500]] [--database-url postgres://...] [--temporal HOST:PORT [--namespace NS]] [--cpuprofile FILE]")
	var f benchFlags
	fs.IntVar(&f.journeys, "journeys", 200, "journeys (and baseline workflows) per throughput run")
	fs.IntVar(&f.callbacks, "callbacks", 2000, "status callbacks (and bare signals) in the ingestion run")
	fs.IntVar(&f.waiting, "waiting", 1000, "journeys left waiting, on a file-backed server")
	only := fs.String("only", strings.Join(all[:4], ","), "benchmarks to run, comma-separated (console and latency are not run unless named)")
	fs.Float64Var(&f.latencyRate, "latency-rate", 10, "latency: journeys, then baseline workflows, started a second (--journeys of each)")
	fs.IntVar(&f.console.Journeys, "console-journeys", 10000, "console: journeys started through the sandbox into visibility")
	fs.IntVar(&f.console.Events, "console-events", 1000000, "console: message events inserted into the store")
	fs.IntVar(&f.console.Contacts, "console-contacts", 2000, "console: distinct customers the journeys and events are spread over")
	fs.IntVar(&f.console.Requests, "console-requests", 200, "console: requests of each page")
	fs.IntVar(&f.broadcast.Recipients, "broadcast", 0, "broadcast: contacts in the segment; set, it runs the broadcast benchmark (alone unless --only names others)")
	fs.Float64Var(&f.broadcast.Rate, "broadcast-rate", 1000, "broadcast: the most journeys started per second")
	fs.IntVar(&f.broadcast.PageSize, "broadcast-page", 0, "broadcast: contacts read per page (default: the workflow's)")
	fs.StringVar(&f.databaseURL, "database-url", e.getenv("SWITCHBACK_DATABASE_URL"), "console: the store's PostgreSQL URL (default SWITCHBACK_DATABASE_URL; empty: SQLite)")
	fs.StringVar(&f.temporal, "temporal", "", "journey, fallback, webhook, latency: run on this Temporal server (its namespace set up by `switchback setup`) instead of an in-process one; workers, journeys, baseline and a temporary SQLite store still run in this process")
	fs.StringVar(&f.namespace, "namespace", "default", "the namespace of --temporal")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the journey throughput run (server, worker and webhooks: one process) to FILE")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	f.parts = strings.Split(*only, ",")
	switch {
	case flagSet(fs, "only"):
	case f.broadcast.Recipients > 0:
		f.parts = []string{"broadcast"}
	case f.temporal != "":
		f.parts = all[:3]
	}
	for _, p := range f.parts {
		if !slices.Contains(all, p) {
			return &usageError{fmt.Sprintf("--only: unknown benchmark %q (%s)", p, strings.Join(all, ", "))}
		}
	}
	if f.temporal != "" && slices.ContainsFunc(f.parts, func(p string) bool { return !slices.Contains(remote, p) }) {
		return &usageError{"--temporal runs only journey, fallback, webhook and latency: waiting, console and broadcast measure the in-process server (set --only)"}
	}
	if f.latencyRate <= 0 {
		return &usageError{"--latency-rate must be above 0"}
	}
	if f.journeys < 2 || f.callbacks < 1 || f.waiting < 1 {
		return &usageError{"--journeys must be at least 2, --callbacks and --waiting at least 1"}
	}
	if slices.Contains(f.parts, "broadcast") && (f.broadcast.Recipients < 1 || f.broadcast.Rate <= 0 || f.broadcast.PageSize < 0) {
		return &usageError{"the broadcast benchmark needs --broadcast N of 1 or more, --broadcast-rate above 0 and --broadcast-page of 0 or more"}
	}

	failed, err := benchThroughput(ctx, e, f)
	if err != nil {
		return err
	}
	if slices.Contains(f.parts, "waiting") {
		if err := benchWaiting(ctx, e, f.waiting); err != nil {
			return err
		}
	}
	if slices.Contains(f.parts, "console") {
		if err := benchConsole(ctx, e, f); err != nil {
			return err
		}
	}
	if slices.Contains(f.parts, "broadcast") {
		if err := benchBroadcast(ctx, e, f.broadcast); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return errors.New("some operations failed:\n  " + strings.Join(failed, "\n  "))
	}
	return nil
}

// benchThroughput runs the throughput and ingestion benchmarks on an
// in-memory server, or on f.temporal, and returns what failed.
func benchThroughput(ctx context.Context, e *env, f benchFlags) ([]string, error) {
	if !slices.ContainsFunc(f.parts, func(p string) bool { return p != "waiting" && p != "console" && p != "broadcast" }) {
		return nil, nil
	}
	opts := bench.Options{}
	server := "in-process Temporal (SQLite)"
	if f.temporal != "" {
		// The store stays a temporary SQLite: SWITCHBACK_DATABASE_URL in
		// the shell may name a store that is not the benchmark's to fill.
		// TLS and the API key come from the environment, as for every
		// other command (SWITCHBACK_TEMPORAL_TLS_*, _API_KEY).
		cfg, err := config.FromEnv(e.getenv)
		if err != nil {
			return nil, err
		}
		opts = bench.Options{TemporalAddress: f.temporal, TemporalNamespace: f.namespace,
			TemporalTLS: cfg.TemporalTLS, TemporalAPIKey: cfg.TemporalAPIKey}
		server = "Temporal at " + f.temporal + " (namespace " + f.namespace + ")"
	}
	fmt.Fprintf(e.stderr, "switchback bench: %s, sandbox providers answering at once, %d journeys per run\n", server, f.journeys)
	var failed []string
	check := func(name string, sts ...bench.Stats) {
		for _, st := range sts {
			if st.Errors > 0 {
				failed = append(failed, fmt.Sprintf("%s: %d of %d failed, first: %s", name, st.Errors, st.N, st.FirstError))
			}
		}
	}
	env, err := bench.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer env.Close()
	if slices.Contains(f.parts, "journey") {
		stop, err := startProfile(f.cpuprofile)
		if err != nil {
			return nil, err
		}
		j, b, err := env.Compare(ctx, f.journeys, sandbox.DefaultRecipient, channels.WhatsApp)
		stop()
		if err != nil {
			return nil, err
		}
		check("journey", j, b)
		h, err := env.History(ctx, sandbox.DefaultRecipient, channels.WhatsApp)
		if err != nil {
			return nil, err
		}
		printResults(e, bench.Ratio("journey_vs_baseline", j, b), j.Result("journey"), b.Result("baseline"), h)
	}
	if slices.Contains(f.parts, "fallback") {
		j, b, err := env.Compare(ctx, f.journeys, sandbox.WhatsAppUndeliverable, channels.SMS)
		if err != nil {
			return nil, err
		}
		check("fallback", j, b)
		printResults(e, bench.Ratio("fallback_vs_baseline", j, b), j.Result("fallback_journey"), b.Result("fallback_baseline"))
	}
	if slices.Contains(f.parts, "webhook") {
		w, s, err := env.Ingest(ctx, f.callbacks, 16)
		if err != nil {
			return nil, err
		}
		check("webhook", w, s)
		r := bench.Ratio("webhook_vs_signal", w, s)
		r.Fields[1].Key, r.Fields[2].Key = "webhooks_per_s", "signals_per_s"
		printResults(e, r, w.Result("webhook"), s.Result("signal"))
	}
	if slices.Contains(f.parts, "latency") {
		j, b, err := env.CompareLatency(ctx, f.latencyRate, f.journeys, sandbox.DefaultRecipient, channels.WhatsApp)
		if err != nil {
			return nil, err
		}
		check("latency", j, b)
		printResults(e, bench.LatencyRatio("latency_vs_baseline", j, b), j.Result("journey_latency"), b.Result("baseline_latency"))
	}
	return failed, nil
}

// benchWaiting runs the waiting benchmark on a file-backed server in a
// temporary directory, the workers in a process of their own (this
// binary's `worker`), so that the line gives their memory apart.
func benchWaiting(ctx context.Context, e *env, n int) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: the worker binary: %w", err)
	}
	return withFileEnv(ctx, bench.Options{WorkerBinary: bin}, "waiting", func(env *bench.Env) error {
		r, err := env.Waiting(ctx, n, 32)
		if err != nil {
			return err
		}
		printResults(e, r)
		return nil
	})
}

// benchConsole runs the console benchmark on a file-backed server in a
// temporary directory, with the store on f.databaseURL when set.
func benchConsole(ctx context.Context, e *env, f benchFlags) error {
	return withFileEnv(ctx, bench.Options{DatabaseURL: f.databaseURL}, "console", func(env *bench.Env) error {
		store := "SQLite"
		if f.databaseURL != "" {
			store = "PostgreSQL"
		}
		fmt.Fprintf(e.stderr, "switchback bench console: %d journeys, %d events in the store (%s), %d requests a page\n",
			f.console.Journeys, f.console.Events, store, f.console.Requests)
		rs, notes, err := env.Console(ctx, f.console)
		if err != nil {
			return err
		}
		printResults(e, rs...)
		for _, n := range notes {
			fmt.Fprintln(e.stdout, "# "+n)
		}
		return nil
	})
}

// benchBroadcast runs the broadcast benchmark on a file-backed server in
// a temporary directory.
func benchBroadcast(ctx context.Context, e *env, o bench.BroadcastOptions) error {
	return withFileEnv(ctx, bench.Options{}, "broadcast", func(env *bench.Env) error {
		fmt.Fprintf(e.stderr, "switchback bench broadcast: %s (otp ending on delivery) to a segment of %d contacts at most %g/s, SQLite files\n", bench.OTPJourneyName, o.Recipients, o.Rate)
		begin := time.Now()
		o.Progress = func(st workflows.BroadcastStatus) {
			fmt.Fprintf(e.stderr, "broadcast after %s: started %d of %d, delivered %d, failed %d, %.1f/s, run %d\n",
				time.Since(begin).Round(time.Second), st.Started, st.Total, st.Delivered, st.Failed, st.Rate, st.Runs)
		}
		r, err := env.Broadcast(ctx, o)
		if err != nil {
			return err
		}
		printResults(e, r)
		return nil
	})
}

// withFileEnv runs f on a file-backed Env, started with opts, in a
// temporary directory named for the benchmark, and removes the directory
// after.
func withFileEnv(ctx context.Context, opts bench.Options, name string, f func(*bench.Env) error) error {
	dir, err := os.MkdirTemp("", "switchback-bench-"+name+"-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	opts.DataDir = dir
	env, err := bench.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	return f(env)
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func printResults(e *env, rs ...bench.Result) {
	for _, r := range rs {
		fmt.Fprintln(e.stdout, r)
	}
}

// startProfile starts a CPU profile into file, if named, and returns the
// function that stops it.
func startProfile(file string) (func(), error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
