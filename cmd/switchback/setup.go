package main

import (
	"context"
	"fmt"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/temporalsetup"
	"github.com/switchbackhq/switchback/journeys"
)

// runSetup prepares a self-hosted Temporal for journeys: the namespace
// SWITCHBACK_TEMPORAL_NAMESPACE with a retention, and every search
// attribute journeys set. It waits for the frontend and is idempotent: the
// compose file's temporal-setup service runs it on every `up`.
func runSetup(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "setup", "setup [--retention 168h] [--wait 2m]")
	retention := fs.Duration("retention", temporalsetup.DefaultRetention, "how long closed journeys stay in Temporal, for a new namespace")
	wait := fs.Duration("wait", temporalsetup.DefaultWait, "give up when the frontend does not serve within this long")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if *retention <= 0 || *wait <= 0 {
		return &usageError{"--retention and --wait must be positive"}
	}
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	copts, err := clientOptions(cfg, log, nil)
	if err != nil {
		return err
	}
	err = temporalsetup.Run(ctx, temporalsetup.Options{
		Client:           copts,
		Retention:        *retention,
		SearchAttributes: journeys.SearchAttributeNames(),
		Wait:             *wait,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	log.Info("temporal setup: done", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)
	return nil
}
