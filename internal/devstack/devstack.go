// Package devstack runs a real Temporal server and the Temporal Web UI inside
// the current process, for `switchback dev` and for integration tests.
//
// The server keeps its data in SQLite: in a file under Options.DataDir, so
// workflows survive a restart, or in memory. The namespace and the custom
// search attributes are written into the database before the server starts,
// so they exist as soon as Start returns.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Defaults for the zero Options.
const (
	DefaultDataDir      = ".switchback"
	DefaultNamespace    = "default"
	DefaultFrontendAddr = "127.0.0.1:7233"
	DefaultUIAddr       = "127.0.0.1:8233"
)

// DatabaseFile is the name of the SQLite database inside Options.DataDir.
const DatabaseFile = "temporal.db"

// Names used for the listeners in a *PortInUseError returned by Start.
const (
	FrontendName = "Temporal frontend"
	UIName       = "Temporal Web UI"
)

const clusterName = "active"

// Options configures a dev stack. The zero value is a usable configuration:
// file persistence in ".switchback", namespace "default", the frontend on
// 127.0.0.1:7233 and the Web UI on 127.0.0.1:8233.
type Options struct {
	// DataDir holds the SQLite database (DataDir/temporal.db). It is created
	// if missing. Empty means ".switchback". Ignored when InMemory is set.
	DataDir string

	// InMemory keeps everything in an in-memory SQLite database with a random
	// name: nothing is written to disk and nothing survives Stop.
	InMemory bool

	// Namespace is registered before the server starts. Empty means "default".
	Namespace string

	// FrontendAddr is the host:port of the gRPC frontend. Empty means
	// "127.0.0.1:7233"; port 0 picks a free port (see Stack.FrontendAddr).
	FrontendAddr string

	// UIAddr is the host:port of the Web UI. Empty means "127.0.0.1:8233";
	// port 0 picks a free port (see Stack.UIURL).
	UIAddr string

	// DisableUI turns the Web UI off.
	DisableUI bool

	// SearchAttributes are custom search attributes registered in Namespace,
	// by name. Attributes added here after the database was created are
	// registered when the server starts.
	SearchAttributes map[string]enumspb.IndexedValueType

	// Logger receives the server's logs at warn level and above. Nil
	// discards them.
	Logger *slog.Logger

	// CodecEndpoint is the URL of a remote payload codec that the Web UI
	// calls from the browser to decode payloads. Empty means none.
	CodecEndpoint string
}

// Stack is a running Temporal server, with the Web UI unless disabled.
type Stack struct {
	server    temporal.Server
	ui        *uiserver.Server
	uiDone    chan struct{} // closed when the UI server's Start returns
	logState  *logState
	frontend  string // dial address of the frontend
	uiURL     string
	namespace string

	stopOnce sync.Once
	stopErr  error
}

// Start starts a Temporal server and, unless disabled, the Web UI, and
// returns once the frontend answers for the namespace. ctx bounds the wait
// for the UI and the frontend to answer; if it ends first, or anything else
// fails, Start stops what it started and returns an error.
//
// Before starting anything, Start checks that the frontend and UI addresses
// can be listened on and returns a *PortInUseError (Name FrontendName or
// UIName, no Flag) otherwise. Callers that want a flag in the message can
// call CheckPorts themselves first.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	opts.setDefaults()

	frontend, err := parseAddr(opts.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("frontend address %q: %w", opts.FrontendAddr, err)
	}
	var ui hostPort
	if !opts.DisableUI {
		if ui, err = parseAddr(opts.UIAddr); err != nil {
			return nil, fmt.Errorf("UI address %q: %w", opts.UIAddr, err)
		}
	}

	// The UI server calls os.Exit when it cannot listen, and the server fails
	// late and obscurely: check both first.
	check := []NamedAddr{{Name: FrontendName, Addr: frontend.String()}}
	if !opts.DisableUI {
		check = append(check, NamedAddr{Name: UIName, Addr: ui.String()})
	}
	if err := CheckPorts(check...); err != nil {
		return nil, err
	}

	// Pick the ports still unknown: the frontend's (if asked for port 0),
	// its HTTP API's, the gRPC ports of history, matching and worker, and the
	// UI's (if asked for port 0). No two are the same.
	taken := []int{frontend.port, ui.port}
	pick := func(host string) (int, error) {
		p, err := freePort(host, taken...)
		if err != nil {
			return 0, err
		}
		taken = append(taken, p)
		return p, nil
	}
	if frontend.port == 0 {
		if frontend.port, err = pick(frontend.host); err != nil {
			return nil, err
		}
	}
	httpPort, err := pick(frontend.host)
	if err != nil {
		return nil, err
	}
	internalPorts := make(map[string]int)
	for _, svc := range []primitives.ServiceName{primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		if internalPorts[string(svc)], err = pick("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	if !opts.DisableUI && ui.port == 0 {
		if ui.port, err = pick(ui.host); err != nil {
			return nil, err
		}
	}

	s := &Stack{
		logState:  newLogState(slog.LevelWarn),
		frontend:  frontend.dial().String(),
		namespace: opts.Namespace,
	}

	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()

	// Start the UI first: it needs nothing from the server, and the sooner it
	// holds its port the smaller the window in which something else can take
	// it (which would make it exit the process).
	if !opts.DisableUI {
		if err := s.startUI(ctx, ui, opts); err != nil {
			return nil, err
		}
	}

	sqlCfg, err := prepareDatabase(opts)
	if err != nil {
		return nil, err
	}

	cfg := serverConfig(frontend, httpPort, internalPorts, sqlCfg)
	logger := newServerLogger(opts.Logger, s.logState)
	serverOpts, err := serverOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	server, err := temporal.NewServer(serverOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating Temporal server: %w", err)
	}
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("starting Temporal server: %w", err)
	}
	s.server = server

	if err := s.waitReady(ctx, opts.SearchAttributes); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (o *Options) setDefaults() {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.FrontendAddr == "" {
		o.FrontendAddr = DefaultFrontendAddr
	}
	if o.UIAddr == "" {
		o.UIAddr = DefaultUIAddr
	}
}

// FrontendAddr returns the host:port where clients reach the gRPC frontend.
func (s *Stack) FrontendAddr() string { return s.frontend }

// UIURL returns the Web UI's base URL, such as "http://127.0.0.1:8233", or ""
// when the UI is disabled.
func (s *Stack) UIURL() string { return s.uiURL }

// Namespace returns the registered namespace.
func (s *Stack) Namespace() string { return s.namespace }

// Stop stops the Web UI and the server. The server's shutdown noise is
// silenced: only errors reach the logger, and not those that merely report
// requests cancelled by the shutdown. Stop is safe to call more than once
// and returns the same result each time.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.logState.quietStop()
		if s.ui != nil {
			s.ui.Stop()
			<-s.uiDone
		}
		if s.server != nil {
			s.stopErr = stopServer(s.server)
		}
	})
	return s.stopErr
}

func stopServer(server temporal.Server) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("stopping Temporal server: panic: %v", r)
		}
	}()
	if err := server.Stop(); err != nil {
		return fmt.Errorf("stopping Temporal server: %w", err)
	}
	return nil
}

// startUI starts the Web UI and waits until it accepts connections.
func (s *Stack) startUI(ctx context.Context, addr hostPort, opts Options) error {
	host := addr.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // the UI joins host and port with a plain colon
	}
	cfg := &uiconfig.Config{
		Host:                host,
		Port:                addr.port,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		Codec:               uiconfig.Codec{Endpoint: opts.CodecEndpoint},
		CORS:                uiconfig.CORS{CookieInsecure: true}, // plain http on loopback
		HideLogs:            true,
		DisableNewsFetch:    true,
	}
	ui, err := newUIServer(cfg)
	if err != nil {
		return err
	}
	s.ui = ui
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		ui.Start() // returns nil once stopped; exits the process on listen errors
	}()

	dial := addr.dial().String()
	s.uiURL = "http://" + dial
	return waitListening(ctx, dial)
}

func newUIServer(cfg *uiconfig.Config) (ui *uiserver.Server, err error) {
	defer func() {
		if r := recover(); r != nil { // NewServer panics on a bad config
			err = fmt.Errorf("creating Temporal Web UI server: %v", r)
		}
	}()
	return uiserver.NewServer(uiserveroptions.WithConfigProvider(cfg)), nil
}

// waitListening waits until something accepts TCP connections on addr.
func waitListening(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to listen: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// prepareDatabase returns the SQLite configuration and makes sure the
// database has the schema, the namespace and its search attributes.
func prepareDatabase(opts Options) (*config.SQL, error) {
	cfg := &config.SQL{
		PluginName: sqliteplugin.PluginName,
		// One connection: more, even with WAL, gives SQLITE_BUSY errors and
		// lower throughput under the server's write pattern.
		MaxConns:     1,
		MaxIdleConns: 1,
	}
	if opts.InMemory {
		// The plugin creates the schema when it first opens an in-memory
		// database. The name only has to be unique within the process.
		name, err := randomName()
		if err != nil {
			return nil, err
		}
		cfg.DatabaseName = name
		cfg.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
	} else {
		dir, err := filepath.Abs(opts.DataDir)
		if err != nil {
			return nil, fmt.Errorf("data directory %q: %w", opts.DataDir, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		cfg.DatabaseName = filepath.Join(dir, DatabaseFile)
		// Keys other than SQLite URI parameters (mode, cache, ...) become
		// pragmas.
		cfg.ConnectAttributes = map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
		}
		_, err = os.Stat(cfg.DatabaseName)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := sqliteschema.SetupSchema(cfg); err != nil {
				return nil, fmt.Errorf("creating Temporal schema in %s (delete the file before retrying): %w", cfg.DatabaseName, err)
			}
		case err != nil:
			return nil, fmt.Errorf("checking database file: %w", err)
		}
	}

	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", opts.Namespace, err)
	}
	// A no-op when the namespace exists already.
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return nil, fmt.Errorf("registering namespace %q: %w", opts.Namespace, err)
	}
	return cfg, nil
}

func randomName() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("naming in-memory database: %w", err)
	}
	return "switchback-" + hex.EncodeToString(b), nil
}

// serverConfig builds the static server configuration: one cluster, one
// history shard, every service on its own port, archival off.
func serverConfig(frontend hostPort, httpPort int, internalPorts map[string]int, sqlCfg *config.SQL) *config.Config {
	frontendDial := frontend.dial()
	httpDial := hostPort{host: frontendDial.host, port: httpPort}

	var cfg config.Config
	cfg.Global.Membership.MaxJoinDuration = 30 * time.Second
	cfg.Global.Membership.BroadcastAddress = "127.0.0.1"

	const store = "sqlite-default"
	cfg.Persistence.DefaultStore = store
	cfg.Persistence.VisibilityStore = store
	cfg.Persistence.NumHistoryShards = 1
	cfg.Persistence.DataStores = map[string]config.DataStore{store: {SQL: sqlCfg}}

	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendDial.String(),
				HTTPAddress:            httpDial.String(),
				ClusterID:              uuid.NewString(),
			},
		},
	}
	cfg.DCRedirectionPolicy.Policy = "noop"

	cfg.Services = map[string]config.Service{
		string(primitives.FrontendService): {RPC: config.RPC{
			GRPCPort: frontend.port,
			HTTPPort: httpPort,
			BindOnIP: frontend.host,
		}},
	}
	for name, port := range internalPorts {
		cfg.Services[name] = config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: "127.0.0.1"}}
	}

	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"

	// The server's own SDK clients (worker service) dial this address.
	cfg.PublicClient.HostPort = frontendDial.String()
	return &cfg
}

// serverOptions returns the options for temporal.NewServer.
func serverOptions(cfg *config.Config, logger *serverLogger) ([]temporal.ServerOption, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("creating authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("creating claim mapper: %w", err)
	}

	hosts := make(map[primitives.ServiceName]static.Hosts, len(cfg.Services))
	for name, svc := range cfg.Services {
		host := hostPort{host: svc.RPC.BindOnIP, port: svc.RPC.GRPCPort}.dial()
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(host.String())
	}

	dc := dynamicconfig.StaticClient{
		// Search attributes written straight into the database, or added by
		// Start, are visible at once instead of after the cache refresh.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// Worker Versioning (SWITCHBACK_WORKER_DEPLOYMENT, `switchback
		// rollout`): on by default in this server version; explicit, as in
		// deploy/temporal/dynamicconfig.yaml.
		dynamicconfig.EnableDeploymentVersions.Key(): true,
		// Persistence rate limits well above what SQLite can do, so the
		// limiter never is the bottleneck.
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  30000,
		dynamicconfig.MatchingPersistenceMaxQPS.Key(): 10000,
		// The UI lists and counts workflows often; the default is 10/s.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// One developer's workload needs far less than the default 128k
		// cached workflows; keep memory down.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
	}

	return []temporal.ServerOption{
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dc),
	}, nil
}

// waitReady waits until the frontend serves the namespace, then registers any
// search attributes the namespace lacks (those added to Options after the
// database was created).
func (s *Stack) waitReady(ctx context.Context, attrs map[string]enumspb.IndexedValueType) error {
	var c client.Client
	for {
		var err error
		c, err = client.DialContext(ctx, client.Options{
			HostPort:  s.frontend,
			Namespace: s.namespace,
			Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		})
		if err == nil {
			break
		}
		if ctxErr := sleep(ctx); ctxErr != nil {
			return fmt.Errorf("waiting for Temporal frontend on %s: %w (last error: %v)", s.frontend, ctxErr, err)
		}
	}
	defer c.Close()

	for {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
		if err == nil {
			break
		}
		if ctxErr := sleep(ctx); ctxErr != nil {
			return fmt.Errorf("waiting for namespace %q: %w (last error: %v)", s.namespace, ctxErr, err)
		}
	}

	if len(attrs) == 0 {
		return nil
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.namespace})
	if err != nil {
		return fmt.Errorf("listing search attributes: %w", err)
	}
	missing := make(map[string]enumspb.IndexedValueType)
	for name, typ := range attrs {
		have, ok := resp.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case have != typ:
			return fmt.Errorf("search attribute %q is registered as %s, want %s", name, have, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        s.namespace,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("adding search attributes: %w", err)
	}
	return nil
}

func sleep(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}
