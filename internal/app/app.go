// Package app wires Switchback's parts together: channel senders from the
// configuration, Temporal workers, and the HTTP server. The commands in
// cmd/switchback and the end-to-end tests share it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/console"
	"github.com/switchbackhq/switchback/internal/telemetry"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/postgres"
	"github.com/switchbackhq/switchback/store/sqlite"
	"github.com/switchbackhq/switchback/templates"
	"github.com/switchbackhq/switchback/webhooks"
	"github.com/switchbackhq/switchback/workflows"
)

// TwilioStatusPath is the path of Twilio's status callbacks.
const TwilioStatusPath = "/webhooks/twilio/status"

// StoreFile is the SQLite store's file under the data directory.
const StoreFile = "switchback.db"

// OpenStore opens the store cfg selects, migrating it to the latest
// schema: PostgreSQL when SWITCHBACK_DATABASE_URL is set, else SQLite in
// StoreFile under the data directory. With SWITCHBACK_EVENTS_URL set, the
// store's new message events go to the event stream's outbox too
// (StartEventStream).
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	opts := store.Options{EventOutbox: cfg.EventsURL != ""}
	if cfg.DatabaseURL != "" {
		st, err := postgres.OpenWith(ctx, cfg.DatabaseURL, opts)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBACK_DATABASE_URL: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.OpenWith(ctx, filepath.Join(cfg.DataDir, StoreFile), opts)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Senders builds a sender for each provider configured in cfg. WhatsApp
// template sends are checked against the template registry in st; a nil
// st checks none.
func Senders(cfg config.Config, st store.Store) (map[channels.Channel]channels.Sender, error) {
	senders := map[channels.Channel]channels.Sender{}
	var reg whatsapp.TemplateRegistry
	if st != nil {
		reg = TemplateRegistry(st)
	}
	if w := cfg.WhatsApp; w != nil {
		c, err := whatsapp.NewClient(whatsapp.Config{APIURL: w.APIURL, PhoneNumberID: w.PhoneNumberID, AccessToken: w.AccessToken,
			Templates: reg})
		if err != nil {
			return nil, fmt.Errorf("whatsapp channel: %w", err)
		}
		senders[channels.WhatsApp] = c
	}
	if t := cfg.Twilio; t != nil {
		c, err := twilio.NewClient(twilio.Config{
			APIURL:              t.APIURL,
			AccountSID:          t.AccountSID,
			AuthToken:           t.AuthToken,
			From:                t.From,
			MessagingServiceSID: t.MessagingServiceSID,
			StatusCallbackURL:   cfg.PublicURLOrDefault() + TwilioStatusPath,
		})
		if err != nil {
			return nil, fmt.Errorf("sms channel: %w", err)
		}
		senders[channels.SMS] = c
	}
	if w, t := cfg.WhatsAppTwilio, cfg.Twilio; w != nil && t != nil {
		// WHATSAPP_PROVIDER=twilio: WhatsApp goes through Twilio, with
		// the Meta client (if any) left to templates sync and webhooks.
		c, err := twilio.NewWhatsAppClient(twilio.WhatsAppConfig{
			APIURL:            t.APIURL,
			AccountSID:        t.AccountSID,
			AuthToken:         t.AuthToken,
			From:              w.From,
			Content:           w.Content,
			StatusCallbackURL: cfg.PublicURLOrDefault() + TwilioStatusPath,
			Templates:         reg,
		})
		if err != nil {
			return nil, fmt.Errorf("whatsapp channel (twilio): %w", err)
		}
		senders[channels.WhatsApp] = c
	}
	if s := cfg.SendGrid; s != nil {
		c, err := email.NewClient(email.Config{APIURL: s.APIURL, APIKey: s.APIKey, From: s.From, ReplyTo: s.ReplyTo})
		if err != nil {
			return nil, fmt.Errorf("email channel: %w", err)
		}
		senders[channels.Email] = c
	}
	if err := configuredSenders(cfg, senders); err != nil {
		return nil, err
	}
	if len(senders) == 0 {
		return nil, errors.New("no channel is configured: set the WHATSAPP_*, TWILIO_* or SENDGRID_* variables (or run `switchback dev` for the sandbox providers)")
	}
	return senders, nil
}

// configuredSenders adds the sender of each channel whose driver builds
// its own from its settings (channels.Configurable) and is configured, or
// runs in the sandbox.
func configuredSenders(cfg config.Config, senders map[channels.Channel]channels.Sender) error {
	env := channels.Env{Getenv: cfg.Getenv, PublicURL: cfg.PublicURLOrDefault(), Sandbox: cfg.SandboxURL}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	for _, d := range Channels().Drivers() {
		c, ok := d.(channels.Configurable)
		if !ok {
			continue
		}
		s, err := c.NewSender(env)
		if err != nil {
			return fmt.Errorf("%s channel: %w", d.Channel(), err)
		}
		if s != nil {
			senders[d.Channel()] = s
		}
	}
	return nil
}

// TemplateRegistry returns the WhatsApp template registry kept in st.
// Until `switchback templates sync` has filled it, template sends are not
// checked against it.
func TemplateRegistry(st store.Store) *templates.Registry {
	return templates.NewRegistry(st)
}

// templateStatusHook applies template status webhooks to reg.
func templateStatusHook(reg *templates.Registry, logger *slog.Logger) func(context.Context, whatsapp.TemplateStatusUpdate) error {
	return func(ctx context.Context, u whatsapp.TemplateStatusUpdate) error {
		found, err := reg.ApplyStatus(ctx, u)
		if err != nil {
			return fmt.Errorf("template %s (%s): %w", u.Name, u.Language, err)
		}
		if !found && logger != nil {
			logger.Warn("status of a template not in the registry; run `switchback templates sync`",
				"template", u.Name, "language", u.Language, "event", u.Event)
		}
		return nil
	}
}

// WorkerOptions configures Workers.
type WorkerOptions struct {
	// Config gives the channels' senders, their rate limits and the
	// contact key.
	Config config.Config
	// Store holds contacts, consent, the message index and the event log;
	// WhatsApp template sends are checked against its template registry.
	Store store.Store
	// Logger receives the activities' logs; nil: none.
	Logger *slog.Logger
	// Telemetry, if set, takes the journey counters.
	Telemetry *telemetry.Telemetry
	// Journeys, if set, finds the journeys broadcasts start, by name;
	// nil: the built-in ones.
	Journeys func(name string) (journeys.Journey, error)
}

// Workers returns the workers of every process that runs journeys (`dev`,
// `worker`, the tests, the benchmark): one for journeys, and one per
// configured channel on that channel's activity task queue, limited to the
// channel's rate, opts.Config.Rate (TaskQueueActivitiesPerSecond:
// Temporal enforces it across every worker of the queue). A channel with
// no limit (rate zero) sends on the journeys' queue instead
// (workflows.Options.Unlimited). Start them with StartWorkers.
func Workers(c client.Client, opts WorkerOptions) ([]worker.Worker, error) {
	cfg := opts.Config
	senders, err := Senders(cfg, opts.Store)
	if err != nil {
		return nil, err
	}
	if err := CheckCapChannels(cfg.FrequencyCaps); err != nil {
		return nil, err
	}
	acts, err := recorder(cfg, opts.Store, opts.Logger, opts.Telemetry)
	if err != nil {
		return nil, err
	}
	acts.Senders, acts.Caps, acts.Limits = senders, cfg.FrequencyCaps, cfg.MessagingLimits
	// The SDK's sticky cache is one per process, sized before the first
	// worker starts: every process that runs journeys sizes it here.
	worker.SetStickyWorkflowCacheSize(cmp.Or(cfg.WorkerCache, config.DefaultWorkerCache))
	// A worker per channel it sends on, limited to the channel's rate. A
	// channel without a rate limit sends on the journeys' queue; its own
	// queue is still polled, for sends scheduled there before.
	var sendWorkers []worker.Worker
	var unlimited []channels.Channel
	for _, d := range acts.Channels.Drivers() {
		ch := d.Channel()
		if _, ok := senders[ch]; !ok {
			continue
		}
		rate, err := cfg.Rate(d)
		if err != nil {
			return nil, err
		}
		if rate == 0 {
			unlimited = append(unlimited, ch)
		}
		w := worker.New(c, journeys.ActivityTaskQueue(ch), workerOptions(cfg, worker.Options{TaskQueueActivitiesPerSecond: rate}))
		w.RegisterActivity(acts)
		sendWorkers = append(sendWorkers, w)
	}
	wf := worker.New(c, journeys.TaskQueue, workerOptions(cfg, worker.Options{}))
	workflows.Register(wf, workflows.Options{ContactKey: acts.ContactKey, Channels: acts.Channels, BusinessNumber: cfg.WhatsAppBusinessNumber,
		Unlimited: unlimited})
	// The journey's own checks (eligibility, the event log) run as local
	// activities beside it, outside the providers' rate limits.
	wf.RegisterActivity(acts)
	// Broadcasts read their segment, start journeys, and check their
	// quality guard and the messaging limit beside them.
	wf.RegisterActivity(&activities.Broadcasts{Store: opts.Store, ContactKey: acts.ContactKey, Channels: acts.Channels,
		Journeys: opts.Journeys, Guard: opts.Store, Limits: cfg.MessagingLimits, Quality: cfg.Guard, Metrics: acts.Metrics})
	return append([]worker.Worker{wf}, sendWorkers...), nil
}

// recorder returns the activities that record message events: the event
// log, what an event says of the contact, and the journey counters on tel
// (if set). Workers add the senders and limits; serve's webhooks record
// the statuses journeys do not wait for with it.
func recorder(cfg config.Config, st store.Store, logger *slog.Logger, tel *telemetry.Telemetry) (*activities.Activities, error) {
	acts := &activities.Activities{Channels: Channels(), Messages: st, Logger: logger, ContactKey: cfg.ContactKeyOrDefault()}
	if tel != nil {
		m, err := activities.NewMetrics(tel.Registry())
		if err != nil {
			return nil, fmt.Errorf("journey counters: %w", err)
		}
		acts.Metrics = m
	}
	return acts, nil
}

// workerOptions returns opts for a worker of a process configured by cfg.
//
// With cfg.WorkerPollers set, its pollers scale, up to that many per task
// queue, from the server's hints about the queue's backlog. The SDK's
// fixed two, one of which waits on the worker's sticky queue, drain a
// backlog of first workflow tasks at one task per round trip per worker;
// but on a cluster short of CPU, more pollers made every task slower
// (README "Cluster test"), so they stay the default.
//
// A versioned worker (cfg.Worker) polls every task queue of the process
// as that version of its Worker Deployment, and its workflows are
// AutoUpgrade: each journey's next task goes to the deployment's current
// version, so a rollout does not keep old workers for journeys that wait
// for days; a change to workflow code still needs workflow.GetVersion
// (workflows/versions.go).
func workerOptions(cfg config.Config, opts worker.Options) worker.Options {
	if cfg.WorkerPollers > 0 {
		pollers := worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MaximumNumberOfPollers: cfg.WorkerPollers})
		opts.WorkflowTaskPollerBehavior, opts.ActivityTaskPollerBehavior = pollers, pollers
	}
	if v := cfg.Worker; v.Versioned() {
		opts.DeploymentOptions = worker.DeploymentOptions{
			UseVersioning:             true,
			Version:                   worker.WorkerDeploymentVersion{DeploymentName: v.Deployment, BuildID: v.BuildID},
			DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
		}
	}
	return opts
}

// CheckCapChannels checks that every frequency cap names a channel of
// Channels (or every channel).
func CheckCapChannels(caps activities.FrequencyCaps) error {
	reg := Channels()
	for _, c := range caps {
		if _, ok := reg.Lookup(c.Channel); c.Channel != "" && !ok {
			return fmt.Errorf("SWITCHBACK_FREQUENCY_CAPS: no channel %q (the channels are %s)", c.Channel, ChannelNames())
		}
	}
	return nil
}

// StartWorkers starts ws; on an error it stops those already started.
func StartWorkers(ws []worker.Worker) error {
	for i, w := range ws {
		if err := w.Start(); err != nil {
			StopWorkers(ws[:i])
			return fmt.Errorf("start worker: %w", err)
		}
	}
	return nil
}

// StopWorkers stops ws.
func StopWorkers(ws []worker.Worker) {
	for _, w := range ws {
		w.Stop()
	}
}

// HTTPOptions configures the HTTP server's handler.
type HTTPOptions struct {
	Config   config.Config
	Temporal webhooks.Signaler
	Messages store.Store
	Logger   *slog.Logger
	// Extra mounts more handlers, by pattern (the dev sandbox).
	Extra map[string]http.Handler
	// Exempt, if set, reports the requests that the codec endpoint serves
	// without SWITCHBACK_CODEC_TOKEN: `dev` sets it to httpauth.Local, for
	// the embedded Web UI.
	Exempt func(*http.Request) bool
	// API, if set, is the /v1 HTTP API (APIHandler).
	API http.Handler
	// Console, if set, is the web console under /console (ConsoleHandler).
	Console http.Handler
	// Telemetry, if set, counts the webhook requests, and traces each
	// request when tracing is on. Its /metrics is served by
	// MetricsHandler, on the metrics address.
	Telemetry *telemetry.Telemetry
}

// HTTPHandler returns the handler of Switchback's HTTP server: the
// webhooks, /healthz, the /v1 API when opts.API is set, the console when
// opts.Console is set, the codec endpoint
// under /codec/ when an encryption key is set, and any extra handlers.
// /metrics and /readyz are on the metrics server (MetricsHandler), off the
// public port.
func HTTPHandler(opts HTTPOptions) http.Handler {
	cfg := opts.Config
	wc := webhooks.Config{
		PublicURL:  cfg.PublicURLOrDefault(),
		Temporal:   opts.Temporal,
		SignalName: workflows.SignalStatus,
		Messages:   opts.Messages,
		Logger:     opts.Logger,
		ContactKey: cfg.ContactKeyOrDefault(),
		Keywords:   webhooks.Keywords{OptOut: cfg.OptOutKeywords, OptIn: cfg.OptInKeywords},
	}
	// A Temporal client also lists workflows: inbound messages find the
	// sender's running journeys with it.
	if l, ok := opts.Temporal.(webhooks.JourneyLister); ok {
		wc.Journeys = l
	}
	if cfg.WhatsApp != nil {
		wc.WhatsAppAppSecret, wc.WhatsAppVerifyToken = cfg.WhatsApp.AppSecret, cfg.WhatsApp.VerifyToken
		wc.WhatsAppPhoneNumberID = cfg.WhatsApp.PhoneNumberID
	}
	if cfg.Twilio != nil {
		wc.TwilioAuthToken = cfg.Twilio.AuthToken
	}
	if cfg.SendGrid != nil {
		wc.SendGridPublicKey = cfg.SendGrid.WebhookPublicKey
	}
	if opts.Messages != nil {
		wc.TemplateStatus = templateStatusHook(TemplateRegistry(opts.Messages), opts.Logger)
		wc.NumberState = opts.Messages.SetNumberState
		// The statuses journeys do not wait for are recorded as the workers
		// record the others; failing that, every status is signalled.
		switch rec, err := recorder(cfg, opts.Messages, opts.Logger, opts.Telemetry); {
		case err == nil:
			wc.Recorder = rec
		case opts.Logger != nil:
			opts.Logger.Error("webhooks signal every status", "error", err)
		}
	}
	var hooks http.Handler
	if tel := opts.Telemetry; tel != nil {
		m, err := newWebhookMetrics(tel.Registry())
		if err != nil && opts.Logger != nil {
			opts.Logger.Error("webhook metrics", "error", err)
		}
		if m != nil {
			wc.SignatureRejected = m.signatureRejected
			wc.OtherNumberIgnored = m.otherNumberIgnored
			hooks = m.wrap(webhooks.New(wc))
		}
	}
	if hooks == nil {
		hooks = webhooks.New(wc)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", hooks)
	mux.HandleFunc("GET /healthz", healthz)
	if h := codecHandler(cfg, opts.Exempt, opts.Logger); h != nil {
		mux.Handle(codec.Prefix+"/", h)
	}
	if opts.API != nil {
		mux.Handle(api.Prefix+"/", opts.API)
	}
	if opts.Console != nil {
		mux.Handle(console.Prefix, opts.Console)
		mux.Handle(console.Prefix+"/", opts.Console)
	}
	for pattern, h := range opts.Extra {
		mux.Handle(pattern, h)
	}
	if opts.Telemetry == nil {
		return mux
	}
	return opts.Telemetry.WrapHTTP(mux)
}

// Listen listens on addr for the HTTP server, with a one-line error when
// the address is taken.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the HTTP server (in use? set SWITCHBACK_HTTP_ADDR or --http-addr): %w", addr, err)
	}
	return ln, nil
}

// Limits of the HTTP servers (Serve). Providers' webhooks and API calls
// are small and quick; a slower client is cut off rather than held open.
const (
	// ReadTimeout bounds reading a request, headers and body: a body
	// trickled byte by byte ends here.
	ReadTimeout = 15 * time.Second
	// ReadHeaderTimeout bounds reading the headers.
	ReadHeaderTimeout = 5 * time.Second
	// WriteTimeout bounds handling a request and writing the answer, from
	// the end of its headers: above the longest wait of a handler (a
	// webhook's signal, 10 s; an API call's default timeout).
	WriteTimeout = 45 * time.Second
	// IdleTimeout bounds a kept-alive connection between requests.
	IdleTimeout = 120 * time.Second
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = 64 << 10
)

// Serve serves h on ln until ctx is done, then shuts down gracefully, with
// the limits above.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadTimeout: ReadTimeout, ReadHeaderTimeout: ReadHeaderTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
