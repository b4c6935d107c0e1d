package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/eventstream"
	"github.com/switchbackhq/switchback/store"
)

// StartEventStream starts delivering st's message events to
// SWITCHBACK_EVENTS_URL (package eventstream), in a goroutine, when cfg
// sets it; every process that runs workers calls it. The store must be
// OpenStore's with the same cfg, which fills the outbox. Call stop to
// stop delivering; it returns once the dispatcher has stopped.
func StartEventStream(ctx context.Context, cfg config.Config, st store.Store, logger *slog.Logger) (stop func(), err error) {
	if cfg.EventsURL == "" {
		return func() {}, nil
	}
	d, err := eventstream.New(st, eventstream.Options{URL: cfg.EventsURL, Secret: cfg.WebhookSecret, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("SWITCHBACK_EVENTS_URL: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	return func() { cancel(); wg.Wait() }, nil
}
