package cluster

import (
	"fmt"
	"os"
	"text/template"
)

// temporalConfig is what the server's configuration file is made of.
type temporalConfig struct {
	Postgres          Postgres
	Database          string // history database
	VisibilityDB      string // visibility database
	Shards            int
	Frontend          int // gRPC port of the frontend
	FrontendHTTP      int
	Matching, History int
	Worker            int
	Membership        [4]int // frontend, matching, history, worker
	DynamicConfig     string // path of the dynamic configuration file
	// TLS is the frontend's mutual TLS: its certificate, the CA its
	// clients' certificates must chain to, and the system worker's.
	TLS        certs
	ServerName string // the name on the frontend's certificate
}

// temporalConfigTemplate is a Temporal server configuration in the shape of
// the one the temporalio/server image renders from its environment for the
// compose file (go.temporal.io/server common/config/config_template_embedded.yaml
// with DB=postgres12_pgx), every port on loopback, and the frontend on mutual
// TLS as production runs it: every client, Temporal's own system worker
// too, presents a certificate of the cluster's CA. Connection pools are
// smaller than the image's defaults (20 + 10 per service), so that the
// four services stay within PostgreSQL's default of 100 connections.
var temporalConfigTemplate = template.Must(template.New("temporal").Parse(`log:
  stdout: true
  level: warn
persistence:
  numHistoryShards: {{.Shards}}
  defaultStore: default
  visibilityStore: visibility
  datastores:
    default:
{{template "sql" (.Store .Database 10)}}
    visibility:
{{template "sql" (.Store .VisibilityDB 5)}}
global:
  tls:
    frontend:
      server:
        certFile: {{.TLS.ServerCert}}
        keyFile: {{.TLS.ServerKey}}
        requireClientAuth: true
        clientCaFiles:
          - {{.TLS.CA}}
      client:
        serverName: {{.ServerName}}
        rootCaFiles:
          - {{.TLS.CA}}
    systemWorker:
      certFile: {{.TLS.ClientCert}}
      keyFile: {{.TLS.ClientKey}}
      client:
        serverName: {{.ServerName}}
        rootCaFiles:
          - {{.TLS.CA}}
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc:
      grpcPort: {{.Frontend}}
      membershipPort: {{index .Membership 0}}
      bindOnIP: 127.0.0.1
      httpPort: {{.FrontendHTTP}}
  matching:
    rpc:
      grpcPort: {{.Matching}}
      membershipPort: {{index .Membership 1}}
      bindOnIP: 127.0.0.1
  history:
    rpc:
      grpcPort: {{.History}}
      membershipPort: {{index .Membership 2}}
      bindOnIP: 127.0.0.1
  worker:
    rpc:
      grpcPort: {{.Worker}}
      membershipPort: {{index .Membership 3}}
      bindOnIP: 127.0.0.1
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:{{.Frontend}}
      httpAddress: 127.0.0.1:{{.FrontendHTTP}}
dcRedirectionPolicy:
  policy: noop
archival:
  history:
    state: disabled
  visibility:
    state: disabled
namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled
publicClient:
  hostPort: 127.0.0.1:{{.Frontend}}
dynamicConfigClient:
  filepath: {{.DynamicConfig}}
  pollInterval: 60s
{{define "sql"}}      sql:
        pluginName: postgres12_pgx
        databaseName: {{.Database}}
        connectAddr: "{{.Postgres.Host}}:{{.Postgres.Port}}"
        connectProtocol: tcp
        user: {{.Postgres.User}}
        maxConns: {{.Conns}}
        maxIdleConns: {{.Conns}}
        maxConnLifetime: 1h{{end}}`))

// sqlStore is one datastore of the configuration.
type sqlStore struct {
	Postgres Postgres
	Database string
	Conns    int
}

// Store returns the datastore of database db with a pool of conns.
func (c temporalConfig) Store(db string, conns int) sqlStore {
	return sqlStore{Postgres: c.Postgres, Database: db, Conns: conns}
}

// writeTemporalConfig writes the server's configuration file to path.
func writeTemporalConfig(path string, c temporalConfig) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("temporal config: %w", err)
	}
	if err := temporalConfigTemplate.Execute(f, c); err != nil {
		f.Close()
		return fmt.Errorf("temporal config: %w", err)
	}
	return f.Close()
}
