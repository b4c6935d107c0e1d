package main

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

func TestPrintDeployment(t *testing.T) {
	created := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	var b strings.Builder
	printDeployment(&b, client.WorkerDeploymentInfo{
		Name: "switchback",
		RoutingConfig: client.WorkerDeploymentRoutingConfig{
			CurrentVersion: &worker.WorkerDeploymentVersion{DeploymentName: "switchback", BuildID: "b"},
		},
		VersionSummaries: []client.WorkerDeploymentVersionSummary{
			{Version: worker.WorkerDeploymentVersion{DeploymentName: "switchback", BuildID: "b"}, CreateTime: created},
			{Version: worker.WorkerDeploymentVersion{DeploymentName: "switchback", BuildID: "a"}, CreateTime: created.Add(-time.Hour),
				DrainageStatus: client.WorkerDeploymentVersionDrainageStatusDrained},
		},
	})
	want := "deployment switchback: current b\n\n" +
		"BUILD ID  CREATED               DRAINAGE\n" +
		"b         2026-12-01T21:00:00Z  -\n" +
		"a         2026-12-01T20:00:00Z  drained (its workers may stop)\n"
	if b.String() != want {
		t.Errorf("printDeployment:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printDeployment(&b, client.WorkerDeploymentInfo{Name: "switchback"})
	if !strings.HasPrefix(b.String(), "deployment switchback: current unversioned workers\n") {
		t.Errorf("no current version: %q", b.String())
	}
}
