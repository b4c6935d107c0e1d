package cluster

import (
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
	if got := stores[cfg.Persistence.DefaultStore].SQL; got == nil || got.PluginName != "postgres12" || got.DatabaseName != want.Database || got.MaxConns != 10 {
		t.Errorf("default store: %+v", got)
	}
	if got := stores[cfg.Persistence.VisibilityStore].SQL; got == nil || got.PluginName != "postgres12" || got.DatabaseName != want.VisibilityDB || got.MaxConns != 5 {
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
}
