package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/config"
)

// runRollout makes a build of the workers the current version of their
// Worker Deployment (README "Upgrading workers"): new journeys start on
// it, and the next task of every running journey goes to it. Without a
// build id it shows the deployment.
func runRollout(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "rollout", "rollout [BUILD_ID] [--deployment NAME] [--wait 2m]")
	deployment := fs.String("deployment", "", "the Worker Deployment (default SWITCHBACK_WORKER_DEPLOYMENT)")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the build's workers to poll every task queue of the current version")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[1])}
	}
	if *wait <= 0 {
		return &usageError{"--wait must be positive"}
	}
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return err
	}
	if *deployment == "" {
		*deployment = cfg.Worker.Deployment
	}
	if *deployment == "" {
		return &usageError{"name the Worker Deployment: set SWITCHBACK_WORKER_DEPLOYMENT as for the workers, or --deployment"}
	}
	log := newLogger(e, cfg)
	// Payloads are neither read nor written: no encryption key needed.
	c, err := dialWith(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	h := c.WorkerDeploymentClient().GetHandle(*deployment)
	if len(pos) == 1 {
		if err := setCurrent(ctx, h, pos[0], *wait); err != nil {
			return fmt.Errorf("make build %q current in deployment %s: %w", pos[0], *deployment, err)
		}
		log.Info("rollout: current version set", "deployment", *deployment, "build_id", pos[0])
	}
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return fmt.Errorf("describe deployment %s: %w", *deployment, err)
	}
	printDeployment(e.stdout, d.Info)
	return nil
}

// setCurrent sets buildID current, trying again while the server refuses
// because the build's workers have not polled yet (not found), or not
// every task queue of the current version (failed precondition), until
// wait has passed.
func setCurrent(ctx context.Context, h client.WorkerDeploymentHandle, buildID string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID})
		var notFound *serviceerror.NotFound
		var precondition *serviceerror.FailedPrecondition
		if err == nil || !errors.As(err, &notFound) && !errors.As(err, &precondition) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waited %s for the build's workers)", err, wait)
		case <-time.After(time.Second):
		}
	}
}

// printDeployment writes a deployment's routing and versions for people.
func printDeployment(w io.Writer, d client.WorkerDeploymentInfo) {
	current, ramping := "unversioned workers", ""
	if v := d.RoutingConfig.CurrentVersion; v != nil {
		current = v.BuildID
	}
	if v := d.RoutingConfig.RampingVersion; v != nil {
		ramping = fmt.Sprintf(", ramping %s at %g%%", v.BuildID, d.RoutingConfig.RampingVersionPercentage)
	}
	fmt.Fprintf(w, "deployment %s: current %s%s\n\n", d.Name, current, ramping)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUILD ID\tCREATED\tDRAINAGE")
	for _, v := range d.VersionSummaries {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Version.BuildID, v.CreateTime.UTC().Format(time.RFC3339), drainage(v.DrainageStatus))
	}
	tw.Flush()
}

// drainage names a version's drainage status: whether journeys may still
// need its workers.
func drainage(s client.WorkerDeploymentVersionDrainageStatus) string {
	switch s {
	case client.WorkerDeploymentVersionDrainageStatusDraining:
		return "draining (journeys pinned to it may still run)"
	case client.WorkerDeploymentVersionDrainageStatusDrained:
		return "drained (its workers may stop)"
	default:
		return "-"
	}
}
