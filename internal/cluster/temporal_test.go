package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/server/common/config"
)

// The configuration file loads and validates as the server binary loads
// it, with every port and database where the cluster put them.
func TestTemporalConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "temporal.yaml")
	want := temporalConfig{
		Postgres: DefaultPostgres, Database: "temporal_x", VisibilityDB: "temporal_visibility_x", Shards: 4,
		Frontend: 40001, FrontendHTTP: 40002, Matching: 40003, History: 40004, Worker: 40005,
		Membership: [4]int{20001, 20002, 20003, 20004}, DynamicConfig: "/dev/null",
		TLS: certs{CA: "/c/ca.pem", ServerCert: "/c/s.pem", ServerKey: "/c/s-key.pem", ClientCert: "/c/c.pem", ClientKey: "/c/c-key.pem"}, ServerName: ServerName,
	}
	if err := writeTemporalConfig(path, want); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.WithConfigFile(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stores := cfg.Persistence.DataStores
	if got := stores[cfg.Persistence.DefaultStore].SQL; got == nil || got.PluginName != "postgres12_pgx" || got.DatabaseName != want.Database || got.MaxConns != 10 {
		t.Errorf("default store: %+v", got)
	}
	if got := stores[cfg.Persistence.VisibilityStore].SQL; got == nil || got.PluginName != "postgres12_pgx" || got.DatabaseName != want.VisibilityDB || got.MaxConns != 5 {
		t.Errorf("visibility store: %+v", got)
	}
	for name, port := range map[string]int{"frontend": 40001, "matching": 40003, "history": 40004, "worker": 40005} {
		if got := cfg.Services[name].RPC.GRPCPort; got != port {
			t.Errorf("%s: gRPC port %d, want %d", name, got, port)
		}
	}
	if got := cfg.Services["frontend"].RPC.MembershipPort; got != 20001 {
		t.Errorf("frontend membership port %d, want 20001", got)
	}
	if got := cfg.ClusterMetadata.ClusterInformation["active"].RPCAddress; got != "127.0.0.1:40001" {
		t.Errorf("cluster rpc address %q", got)
	}
	fe := cfg.Global.TLS.Frontend
	if !fe.Server.RequireClientAuth || fe.Server.CertFile != "/c/s.pem" || len(fe.Server.ClientCAFiles) != 1 || fe.Server.ClientCAFiles[0] != "/c/ca.pem" {
		t.Errorf("frontend TLS: %+v, want mutual TLS with the cluster's CA", fe.Server)
	}
	if sw := cfg.Global.TLS.SystemWorker; sw.CertFile != "/c/c.pem" || sw.Client.ServerName != ServerName {
		t.Errorf("system worker TLS: %+v, want the client certificate, verifying %s", sw, ServerName)
	}
}

// The cluster's certificates verify as its clients and its frontend check
// them: the frontend's for ServerName and 127.0.0.1, the client's for
// client authentication, both chained to the CA; the CA signs nothing else.
func TestCerts(t *testing.T) {
	c, err := writeCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(c.CA)
	if err != nil {
		t.Fatal(err)
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA file holds no certificate")
	}
	for _, tt := range []struct {
		cert, key, name string
		usage           x509.ExtKeyUsage
	}{
		{c.ServerCert, c.ServerKey, ServerName, x509.ExtKeyUsageServerAuth},
		{c.ServerCert, c.ServerKey, "127.0.0.1", x509.ExtKeyUsageServerAuth},
		{c.ClientCert, c.ClientKey, "", x509.ExtKeyUsageClientAuth},
	} {
		pair, err := tls.LoadX509KeyPair(tt.cert, tt.key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: tt.name, KeyUsages: []x509.ExtKeyUsage{tt.usage}}); err != nil {
			t.Errorf("%s for %q: %v", tt.cert, tt.name, err)
		}
	}
	pair, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: ServerName}); err == nil {
		t.Error("the client certificate verifies as the frontend's")
	}
}
