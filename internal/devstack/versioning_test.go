package devstack

import (
	"context"
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The embedded server runs Worker Versioning (`switchback rollout`, and
// dev's versioned workers): a versioned worker's build, made current,
// runs a new workflow, and its history names the build.
func TestWorkerVersioning(t *testing.T) {
	s := startStack(t, Options{InMemory: true, Namespace: "switchback-test", FrontendAddr: freeAddr(t), Logger: testLogger(t)})
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := worker.New(c, "tq", worker.Options{DeploymentOptions: worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: "switchback", BuildID: "b1"},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}})
	w.RegisterWorkflowWithOptions(greet, workflow.RegisterOptions{Name: "Test"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	h := c.WorkerDeploymentClient().GetHandle("switchback")
	for {
		_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "b1"})
		if err == nil {
			break
		}
		// Not found, or no pollers seen: the worker has not polled yet.
		var notFound *serviceerror.NotFound
		var precondition *serviceerror.FailedPrecondition
		if !errors.As(err, &notFound) && !errors.As(err, &precondition) || ctx.Err() != nil {
			t.Fatalf("SetCurrentVersion: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "versioned", TaskQueue: "tq"}, "Test", "world")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "hello world" {
		t.Fatalf("workflow = %q, %v", got, err)
	}
	it := c.GetWorkflowHistory(ctx, "versioned", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			if b := a.GetDeploymentVersion().GetBuildId(); b != "b1" {
				t.Errorf("workflow task completed by build %q, want b1", b)
			}
			return
		}
	}
	t.Error("no workflow task completed")
}
