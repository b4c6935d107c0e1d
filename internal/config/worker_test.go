package config

import (
	"strings"
	"testing"
)

func TestWorkerVersion(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.Worker.Versioned() {
		t.Fatalf("no settings: %+v, %v: want an unversioned worker", c.Worker, err)
	}
	c, err = FromEnv(env(map[string]string{"SWITCHBACK_WORKER_DEPLOYMENT": "switchback", "SWITCHBACK_WORKER_BUILD_ID": "2026-12-01.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (WorkerVersion{Deployment: "switchback", BuildID: "2026-12-01.1"}); c.Worker != want || !c.Worker.Versioned() {
		t.Errorf("Worker = %+v, want %+v", c.Worker, want)
	}
	for _, bad := range []map[string]string{
		{"SWITCHBACK_WORKER_DEPLOYMENT": "switchback"},
		{"SWITCHBACK_WORKER_BUILD_ID": "b1"},
		{"SWITCHBACK_WORKER_DEPLOYMENT": "switch.back", "SWITCHBACK_WORKER_BUILD_ID": "b1"},
		{"SWITCHBACK_WORKER_DEPLOYMENT": "switchback", "SWITCHBACK_WORKER_BUILD_ID": strings.Repeat("b", 256)},
	} {
		if _, err := FromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), "SWITCHBACK_WORKER_") {
			t.Errorf("%v: %v, want an error naming the setting", bad, err)
		}
	}
}

func TestWorkerPollers(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.WorkerPollers != 0 {
		t.Fatalf("no setting: %d, %v: want 0 (the SDK's fixed pollers)", c.WorkerPollers, err)
	}
	if c, err = FromEnv(env(map[string]string{"SWITCHBACK_WORKER_POLLERS": "8"})); err != nil || c.WorkerPollers != 8 {
		t.Errorf("SWITCHBACK_WORKER_POLLERS=8: %d, %v", c.WorkerPollers, err)
	}
	for _, bad := range []string{"1", "0", "many"} {
		if _, err := FromEnv(env(map[string]string{"SWITCHBACK_WORKER_POLLERS": bad})); err == nil || !strings.Contains(err.Error(), "SWITCHBACK_WORKER_POLLERS") {
			t.Errorf("SWITCHBACK_WORKER_POLLERS=%s: %v, want an error naming the setting", bad, err)
		}
	}
}
