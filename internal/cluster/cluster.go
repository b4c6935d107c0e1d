// Package cluster runs Switchback on this machine the way production runs
// it, for the cluster test: Temporal's own server binary on PostgreSQL,
// its schemas set up by temporal-sql-tool, the namespace and search
// attributes by `switchback setup`, two `switchback worker` processes and
// one `switchback serve`, the store on PostgreSQL, with production keys
// and the frontend on mutual TLS.
// It also disrupts them: a worker killed, the Temporal server stopped,
// serve restarted, PostgreSQL restarted.
//
// Every program is built from this module at go.mod's versions (Build).
// Databases get a unique suffix and are dropped by Close. Run the test
// with SWITCHBACK_CLUSTER=1 (it restarts PostgreSQL: never beside other
// tests that use it).
package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/keys"
)

// Defaults for zero Options fields.
const (
	DefaultShards    = 4
	DefaultWorkers   = 2
	DefaultNamespace = "switchback"
)

// Binaries are the programs a cluster runs.
type Binaries struct {
	TemporalServer string // go.temporal.io/server/cmd/server
	SQLTool        string // temporal-sql-tool: go.temporal.io/server/cmd/tools/sql
	Switchback     string // ./cmd/switchback, built as the Dockerfile builds it
}

// Build builds the cluster's programs from the module at root into dir,
// one after another: Temporal's at the version go.mod requires (they are
// tools of the module), Switchback with -tags nodev like the container
// image.
func Build(ctx context.Context, root, dir string) (Binaries, error) {
	b := Binaries{
		TemporalServer: filepath.Join(dir, "temporal-server"),
		SQLTool:        filepath.Join(dir, "temporal-sql-tool"),
		Switchback:     filepath.Join(dir, "switchback"),
	}
	for _, args := range [][]string{
		{"build", "-o", b.TemporalServer, "go.temporal.io/server/cmd/server"},
		{"build", "-o", b.SQLTool, "go.temporal.io/server/cmd/tools/sql"},
		{"build", "-tags", "nodev", "-o", b.Switchback, "./cmd/switchback"},
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return b, nil
}

// Options configure New.
type Options struct {
	// Root is the repository root: deploy/temporal/dynamicconfig.yaml, the
	// compose file's dynamic configuration, is read from it.
	Root string
	// Dir holds the configuration and the processes' logs.
	Dir string
	// Binaries are the programs to run (Build).
	Binaries Binaries
	// Postgres is the server of every database. Zero: DefaultPostgres.
	Postgres Postgres
	// Shards is Temporal's number of history shards. Zero: DefaultShards.
	Shards int
	// Workers is the number of worker processes. Zero: DefaultWorkers.
	Workers int
}

// Cluster is a running Switchback cluster. Its fields are fixed by New.
type Cluster struct {
	opts Options
	pg   Postgres
	dbs  []string // created, dropped by Close

	// PublicURL is serve's base URL, as providers call it.
	PublicURL string
	// APIToken is the bearer token of serve's /v1 API.
	APIToken string
	// FrontendAddr is the Temporal frontend's host:port.
	FrontendAddr string
	// Namespace is the Temporal namespace of journeys.
	Namespace string
	// StoreURL is the database URL of Switchback's store.
	StoreURL string
	// Keys are the encryption and contact keys of every process.
	Keys keys.Pair
	// TLS is how every client reaches the frontend: mutual TLS with the
	// cluster's own CA (SWITCHBACK_TEMPORAL_TLS_* of every process).
	TLS config.TemporalTLS

	// Temporal, Serve and Workers are the processes.
	Temporal *Process
	Serve    *Process
	Workers  []*Process

	serveMetrics   string
	workerMetrics  []string
	temporalConfig string
}

// New creates the databases (history and visibility with Temporal's
// schemas, and the store's), writes Temporal's configuration on free
// loopback ports, and makes fresh keys. It starts nothing: Start does.
// Close drops the databases, also after an error of New.
func New(ctx context.Context, opts Options) (c *Cluster, err error) {
	opts.Shards = cmp.Or(opts.Shards, DefaultShards)
	opts.Workers = cmp.Or(opts.Workers, DefaultWorkers)
	if opts.Postgres == (Postgres{}) {
		opts.Postgres = DefaultPostgres
	}
	c = &Cluster{opts: opts, pg: opts.Postgres, Namespace: DefaultNamespace, APIToken: rand.Text()}
	if c.Keys, err = keys.New(time.Now()); err != nil {
		return c, err
	}
	suffix := strings.ToLower(rand.Text()[:10])
	history, visibility, store := "temporal_"+suffix, "temporal_visibility_"+suffix, "switchback_"+suffix
	for _, db := range []string{history, visibility, store} {
		if err := c.pg.CreateDatabase(ctx, db); err != nil {
			return c, err
		}
		c.dbs = append(c.dbs, db)
	}
	for db, kind := range map[string]string{history: "temporal", visibility: "visibility"} {
		if err := c.pg.SetupTemporalSchema(ctx, opts.Binaries.SQLTool, db, kind); err != nil {
			return c, err
		}
	}
	c.StoreURL = c.pg.URL(store)

	// Temporal keeps membership ports in a smallint column; every port
	// comes from the range free ports are drawn from (freePorts).
	ports, err := freePorts(11 + opts.Workers)
	if err != nil {
		return c, err
	}
	membership, ports := ports[:4], ports[4:]
	certs, err := writeCerts(opts.Dir)
	if err != nil {
		return c, err
	}
	c.TLS = config.TemporalTLS{CertFile: certs.ClientCert, KeyFile: certs.ClientKey, CAFile: certs.CA, ServerName: ServerName}
	tc := temporalConfig{
		Postgres: c.pg, Database: history, VisibilityDB: visibility, Shards: opts.Shards,
		Frontend: ports[0], FrontendHTTP: ports[1], Matching: ports[2], History: ports[3], Worker: ports[4],
		Membership:    [4]int(membership),
		DynamicConfig: filepath.Join(opts.Root, "deploy", "temporal", "dynamicconfig.yaml"),
		TLS:           certs, ServerName: ServerName,
	}
	c.temporalConfig = filepath.Join(opts.Dir, "temporal.yaml")
	if err := writeTemporalConfig(c.temporalConfig, tc); err != nil {
		return c, err
	}
	c.FrontendAddr = loopback(ports[0])
	c.PublicURL = "http://" + loopback(ports[5])
	c.serveMetrics = loopback(ports[6])
	for i := range opts.Workers {
		c.workerMetrics = append(c.workerMetrics, loopback(ports[7+i]))
	}
	return c, nil
}

// Start starts Temporal and sets it up (StartTemporal), then starts serve
// and the workers, each with env (the providers' settings) on top of the
// cluster's own, and waits until each is ready.
func (c *Cluster) Start(ctx context.Context, env []string) error {
	if err := c.StartTemporal(ctx, env); err != nil {
		return err
	}
	c.Serve = c.switchback("serve", env, "SWITCHBACK_HTTP_ADDR="+strings.TrimPrefix(c.PublicURL, "http://"),
		"SWITCHBACK_METRICS_ADDR="+c.serveMetrics)
	if err := c.Serve.Start(); err != nil {
		return err
	}
	if _, err := c.ServeReady(ctx); err != nil {
		return err
	}
	for i, addr := range c.workerMetrics {
		w := c.switchback("worker-"+strconv.Itoa(i+1), env, "SWITCHBACK_METRICS_ADDR="+addr)
		c.Workers = append(c.Workers, w)
		if err := w.Start(); err != nil {
			return err
		}
		if _, err := c.WorkerReady(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// StartTemporal starts the Temporal server alone and runs `switchback
// setup` against it, with env on top of the cluster's settings: the
// namespace and the search attributes are ready when it returns.
func (c *Cluster) StartTemporal(ctx context.Context, env []string) error {
	c.Temporal = &Process{
		Name: "temporal", Path: c.opts.Binaries.TemporalServer, Env: os.Environ(),
		Args: []string{"--config-file", c.temporalConfig, "--allow-no-auth", "start"},
		Log:  filepath.Join(c.opts.Dir, "temporal.log"),
	}
	if err := c.Temporal.Start(); err != nil {
		return err
	}
	return c.setup(ctx, env)
}

// setup runs `switchback setup` as the compose file's temporal-setup
// service does, and waits for it.
func (c *Cluster) setup(ctx context.Context, env []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for !c.Temporal.Exited() && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	p := c.switchback("setup", env)
	cmd := exec.CommandContext(ctx, p.Path, "setup", "--retention", "24h", "--wait", "2m")
	cmd.Env = p.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("switchback setup: %w\n%s\ntemporal:\n%s", err, out, c.Temporal.Tail(30))
	}
	return nil
}

// switchback returns the process of a switchback command, with env and
// extra on top of the cluster's settings.
func (c *Cluster) switchback(name string, env []string, extra ...string) *Process {
	command, _, _ := strings.Cut(name, "-")
	all := append(os.Environ(),
		"SWITCHBACK_TEMPORAL_ADDRESS="+c.FrontendAddr,
		"SWITCHBACK_TEMPORAL_NAMESPACE="+c.Namespace,
		"SWITCHBACK_TEMPORAL_TLS_CA="+c.TLS.CAFile,
		"SWITCHBACK_TEMPORAL_TLS_CERT="+c.TLS.CertFile,
		"SWITCHBACK_TEMPORAL_TLS_KEY="+c.TLS.KeyFile,
		"SWITCHBACK_TEMPORAL_TLS_SERVER_NAME="+c.TLS.ServerName,
		"SWITCHBACK_DATABASE_URL="+c.StoreURL,
		"SWITCHBACK_PUBLIC_URL="+c.PublicURL,
		"SWITCHBACK_ENCRYPTION_KEY="+c.Keys.Encryption,
		"SWITCHBACK_CONTACT_KEY="+c.Keys.Contact,
		"SWITCHBACK_API_TOKEN="+c.APIToken,
		"SWITCHBACK_DATA_DIR="+filepath.Join(c.opts.Dir, name),
		"SWITCHBACK_LOG_LEVEL=warn",
	)
	all = append(append(all, env...), extra...)
	return &Process{Name: name, Path: c.opts.Binaries.Switchback, Args: []string{command}, Env: all,
		Log: filepath.Join(c.opts.Dir, name+".log")}
}

// TemporalReady waits until the frontend answers a health check, and
// returns how long that took.
func (c *Cluster) TemporalReady(ctx context.Context) (time.Duration, error) {
	return waitFor(ctx, "the Temporal frontend", func(ctx context.Context) error {
		tc, err := c.Dial(ctx)
		if err != nil {
			return err
		}
		defer tc.Close()
		_, err = tc.CheckHealth(ctx, nil)
		return err
	})
}

// Dial connects a client to the cluster's namespace over the frontend's
// mutual TLS, as a Switchback process does. Close it when done.
func (c *Cluster) Dial(ctx context.Context) (client.Client, error) {
	return c.dialWith(ctx, c.TLS)
}

// dialWith connects a client to the cluster's namespace with t.
func (c *Cluster) dialWith(ctx context.Context, t config.TemporalTLS) (client.Client, error) {
	cfg := config.Config{TemporalAddress: c.FrontendAddr, TemporalNamespace: c.Namespace, TemporalTLS: t}
	opts, err := app.ClientOptions(cfg, sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), nil)
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, opts)
}

// ServeReady waits until serve's /readyz answers 200 (Temporal and the
// store reachable).
func (c *Cluster) ServeReady(ctx context.Context) (time.Duration, error) {
	return waitFor(ctx, "serve", func(ctx context.Context) error {
		if c.Serve.Exited() {
			return fmt.Errorf("serve exited:\n%s", c.Serve.Tail(20))
		}
		return get(ctx, "http://"+c.serveMetrics+"/readyz")
	})
}

// WorkerReady waits until worker i's /readyz answers 200 (its workers
// polling, Temporal and the store reachable).
func (c *Cluster) WorkerReady(ctx context.Context, i int) (time.Duration, error) {
	w := c.Workers[i]
	return waitFor(ctx, w.Name, func(ctx context.Context) error {
		if w.Exited() {
			return fmt.Errorf("%s exited:\n%s", w.Name, w.Tail(20))
		}
		return get(ctx, "http://"+c.workerMetrics[i]+"/readyz")
	})
}

// Ready waits until serve and every worker are ready, and returns how
// long that took.
func (c *Cluster) Ready(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if _, err := c.ServeReady(ctx); err != nil {
		return 0, err
	}
	for i := range c.Workers {
		if _, err := c.WorkerReady(ctx, i); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// KillWorker kills worker i with SIGKILL, starts its replacement at once,
// and returns how long the replacement took to be ready.
func (c *Cluster) KillWorker(ctx context.Context, i int) (time.Duration, error) {
	if err := c.Workers[i].Kill(); err != nil {
		return 0, err
	}
	if err := c.Workers[i].Start(); err != nil {
		return 0, err
	}
	return c.WorkerReady(ctx, i)
}

// StopTemporal stops the Temporal server (SIGTERM), keeps it down for
// down, starts it again, and returns how long the frontend took to serve
// after the start.
func (c *Cluster) StopTemporal(ctx context.Context, down time.Duration) (time.Duration, error) {
	if err := c.Temporal.Stop(); err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(down):
	}
	if err := c.Temporal.Start(); err != nil {
		return 0, err
	}
	return c.TemporalReady(ctx)
}

// RestartServe stops serve (SIGTERM), starts it again, and returns how
// long it took to be ready.
func (c *Cluster) RestartServe(ctx context.Context) (time.Duration, error) {
	if err := c.Serve.Stop(); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := c.Serve.Start(); err != nil {
		return 0, err
	}
	if _, err := c.ServeReady(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// RestartPostgres restarts PostgreSQL, waits until pg_isready reports it
// back, then until serve and the workers are ready again. It returns both
// durations.
func (c *Cluster) RestartPostgres(ctx context.Context) (postgres, switchback time.Duration, err error) {
	if postgres, err = c.pg.Restart(ctx); err != nil {
		return postgres, 0, err
	}
	switchback, err = c.Ready(ctx)
	return postgres, switchback, err
}

// DatabaseSize returns the total size of the cluster's databases in
// bytes: Temporal's history and visibility, and the store.
func (c *Cluster) DatabaseSize(ctx context.Context) (int64, error) {
	var total int64
	for _, db := range c.dbs {
		n, err := c.pg.Size(ctx, db)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Close stops every process (SIGTERM) and drops the databases.
func (c *Cluster) Close(ctx context.Context) error {
	var errs []error
	for _, p := range append(append([]*Process{c.Serve}, c.Workers...), c.Temporal) {
		if p != nil {
			errs = append(errs, p.Stop())
		}
	}
	for _, db := range c.dbs {
		errs = append(errs, c.pg.DropDatabase(ctx, db))
	}
	return errors.Join(errs...)
}

// get GETs url and wants a 2xx answer.
func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// freePorts returns n distinct free loopback ports between 20000 and
// 32767, drawn at random. The range lies below the system's ephemeral
// ports (32768 and up), which the kernel hands out to port-0 listeners and
// to outgoing connections: none of those can take a port between its pick
// and the process's bind, or while a stopped process is down. 32767 is
// also the largest port Temporal's membership table holds (a smallint).
func freePorts(n int) ([]int, error) {
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, errors.New("no free loopback port between 20000 and 32767")
		}
		ln, err := net.Listen("tcp", loopback(20000+mathrand.IntN(12768)))
		if err != nil {
			continue
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
