package main

import (
	"context"
	"fmt"

	"github.com/switchbackhq/switchback/activities"
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
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	senders, err := app.Senders(cfg, st)
	if err != nil {
		return err
	}
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
	counters, err := activities.NewMetrics(tel.Registry())
	if err != nil {
		return fmt.Errorf("journey counters: %w", err)
	}
	ws := app.WorkersWithRates(c, &activities.Activities{Senders: senders, Messages: st, Logger: log, ContactKey: cfg.ContactKeyOrDefault(), Metrics: counters}, cfg.RateLimits)
	if err := app.StartWorkers(ws); err != nil {
		return err
	}
	defer app.StopWorkers(ws)
	log.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace, "channels", fmt.Sprint(keys(senders)),
		"metrics", "http://"+cfg.MetricsAddr+"/metrics")
	// Serve returns when ctx is done, after a graceful shutdown.
	return app.Serve(ctx, ln, app.MetricsHandler(tel))
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	if cfg.WhatsApp == nil && cfg.Twilio == nil {
		return fmt.Errorf("no provider is configured: set the WHATSAPP_* or TWILIO_* variables whose webhooks to serve")
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// A lazy client: the server starts while Temporal is down, and answers
	// 503 to providers until it is back.
	tel, stopTelemetry, err := startTelemetry(ctx, e, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	c, err := lazyClient(cfg, log, tel)
	if err != nil {
		return err
	}
	defer c.Close()
	ln, err := app.Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	apiH, err := app.APIHandler(c, cfg, log, false)
	if err != nil {
		return err
	}
	h := app.HTTPHandler(app.HTTPOptions{Config: cfg, Temporal: c, Messages: st, Logger: log, Telemetry: tel, API: apiH})
	log.Info("webhook server listening", "addr", cfg.HTTPAddr, "public_url", cfg.PublicURLOrDefault())
	return app.Serve(ctx, ln, h)
}
