package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/switchbackhq/switchback/internal/app"
)

func runWorker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "worker", "worker")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkBuiltins(); err != nil {
		return err
	}
	cfg, log, err := loadServerConfig(e)
	if err != nil {
		return err
	}
	if names := walinkBuiltins(); cfg.WhatsAppBusinessNumber == "" && len(names) > 0 {
		log.Warn("WHATSAPP_BUSINESS_NUMBER is not set: built-in journeys that use wa_link fail at their start", "journeys", names)
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tel, stopTelemetry, err := startTelemetry(ctx, e, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	// A taken metrics address fails before anything connects; /healthz
	// answers once the workers run.
	ln, err := app.ListenMetrics(cfg.MetricsAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := dialWith(ctx, cfg, log, tel)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := app.Workers(c, app.WorkerOptions{Config: cfg, Store: st, Logger: log, Telemetry: tel})
	if err != nil {
		return err
	}
	if err := app.StartWorkers(ws); err != nil {
		return err
	}
	defer app.StopWorkers(ws)
	stopEvents, err := app.StartEventStream(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer stopEvents()
	log.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace, "workers", len(ws),
		"metrics", "http://"+cfg.MetricsAddr+"/metrics", "deployment", cfg.Worker.Deployment, "build_id", cfg.Worker.BuildID)
	// Serve returns when ctx is done, after a graceful shutdown.
	return app.Serve(ctx, ln, app.MetricsHandler(app.MetricsOptions{Telemetry: tel, Temporal: c, Store: st, Logger: log}))
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, log, err := loadServerConfig(e)
	if err != nil {
		return err
	}
	if cfg.WhatsApp == nil && cfg.Twilio == nil {
		return fmt.Errorf("no provider is configured: set the WHATSAPP_* or TWILIO_* variables whose webhooks to serve")
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tel, stopTelemetry, err := startTelemetry(ctx, e, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	// A lazy client: the server starts while Temporal is down, and answers
	// 503 to providers until it is back.
	c, err := lazyClient(cfg, log, tel)
	if err != nil {
		return err
	}
	defer c.Close()
	mln, err := app.ListenMetrics(cfg.MetricsAddr)
	if err != nil {
		return err
	}
	defer mln.Close()
	ln, err := app.Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	apiH, err := app.APIHandler(c, cfg, st, log, nil)
	if err != nil {
		return err
	}
	consoleH, err := app.ConsoleHandler(app.ConsoleOptions{Client: c, Config: cfg, Store: st, Logger: log})
	if err != nil {
		return err
	}
	h := app.HTTPHandler(app.HTTPOptions{Config: cfg, Temporal: c, Messages: st, Logger: log, Telemetry: tel, API: apiH, Console: consoleH})
	log.Info("webhook server listening", "addr", cfg.HTTPAddr, "public_url", cfg.PublicURLOrDefault(), "metrics", "http://"+cfg.MetricsAddr+"/metrics")
	return serveBoth(ctx, ln, h, mln, app.MetricsHandler(app.MetricsOptions{Telemetry: tel, Temporal: c, Store: st, Logger: log}))
}

// serveBoth serves the HTTP server and the metrics server until ctx is
// done or either fails.
func serveBoth(ctx context.Context, ln net.Listener, h http.Handler, mln net.Listener, mh http.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metrics := make(chan error, 1)
	go func() {
		metrics <- app.Serve(ctx, mln, mh)
		cancel()
	}()
	err := app.Serve(ctx, ln, h)
	cancel()
	return errors.Join(err, <-metrics)
}
