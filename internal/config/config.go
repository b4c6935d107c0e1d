// Package config reads Switchback's settings from environment variables,
// named as users of each provider expect, and checks them at start.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/codec"
)

// Config is everything Switchback reads from its environment.
type Config struct {
	// TemporalAddress is the Temporal frontend (SWITCHBACK_TEMPORAL_ADDRESS).
	TemporalAddress string
	// TemporalNamespace is the namespace of journeys (SWITCHBACK_TEMPORAL_NAMESPACE).
	TemporalNamespace string
	// HTTPAddr is where webhooks are served (SWITCHBACK_HTTP_ADDR).
	HTTPAddr string
	// PublicURL is the externally visible base URL of the HTTP server
	// (SWITCHBACK_PUBLIC_URL); callbacks and Twilio signatures use it.
	PublicURL string
	// DataDir holds local state: the dev server's and the store's SQLite
	// files (SWITCHBACK_DATA_DIR).
	DataDir string
	// ContactKey keys the contact hash used as a search attribute
	// (SWITCHBACK_CONTACT_KEY). Empty: a development key.
	ContactKey string
	// DatabaseURL selects the store (SWITCHBACK_DATABASE_URL): a
	// postgres:// URL for PostgreSQL; empty for SQLite under DataDir.
	DatabaseURL string
	// OptOutKeywords and OptInKeywords replace the default keywords of
	// inbound messages (SWITCHBACK_OPT_OUT_KEYWORDS,
	// SWITCHBACK_OPT_IN_KEYWORDS: comma-separated, any case). Nil: the
	// defaults.
	OptOutKeywords, OptInKeywords []string
	// WhatsApp is nil when no WHATSAPP_* variable is set.
	WhatsApp *WhatsApp
	// Twilio is nil when no TWILIO_* variable is set.
	Twilio *Twilio
	// WhatsAppTwilio is set when WHATSAPP_PROVIDER=twilio: WhatsApp then
	// goes through Twilio with the Twilio credentials.
	WhatsAppTwilio *WhatsAppTwilio
	// WhatsAppBusinessNumber is the WhatsApp business number, E.164
	// (WHATSAPP_BUSINESS_NUMBER), that journeys' wa_link click-to-chat
	// links open a chat with. Empty: a journey using wa_link fails at start.
	WhatsAppBusinessNumber string
	// SendGrid is nil when no SENDGRID_* variable is set.
	SendGrid *SendGrid
	// Getenv reads the settings the configuration was read from; channels
	// that read their own (channels.Configurable) and their rates (Rate)
	// use it.
	Getenv func(string) string
	// WorkerCache is how many workflows a worker process keeps in memory
	// between their tasks (SWITCHBACK_WORKER_CACHE, default
	// DefaultWorkerCache): Temporal's sticky cache, shared by the
	// process's workers. A journey evicted from it is replayed from its
	// history at its next task; a waiting journey costs the worker nothing.
	WorkerCache int
	// WorkerPollers, when set, is the most pollers a worker process
	// keeps open on each of its task queues (SWITCHBACK_WORKER_POLLERS):
	// the workers scale their pollers between one and this from the
	// server's hints about each queue's backlog. Zero: the SDK's fixed
	// two per queue, one of which waits on the sticky queue.
	WorkerPollers int
	// Worker is the Worker Versioning identity of the worker process
	// (SWITCHBACK_WORKER_DEPLOYMENT, SWITCHBACK_WORKER_BUILD_ID). Zero:
	// an unversioned worker.
	Worker WorkerVersion
	// SandboxURL is the base URL of the sandbox lookalikes when `dev`
	// serves them (app.UseSandbox); empty elsewhere.
	SandboxURL string
	// FrequencyCaps cap each contact's sends of a purpose on a channel
	// across journeys (SWITCHBACK_FREQUENCY_CAPS, see ParseFrequencyCaps).
	// Nil: no caps.
	FrequencyCaps activities.FrequencyCaps
	// MessagingLimits cap the unique WhatsApp recipients of templates
	// outside the service window over 24 hours: the tier
	// (SWITCHBACK_WHATSAPP_TIER, else the one Meta reports) and a warm-up
	// (SWITCHBACK_WHATSAPP_WARMUP, SWITCHBACK_WHATSAPP_WARMUP_START).
	MessagingLimits *activities.MessagingLimits
	// Guard is the broadcasts' failure-rate guard
	// (SWITCHBACK_GUARD_SENDS, SWITCHBACK_GUARD_FAILURE_RATE).
	Guard activities.QualityGuard
	// EncryptionKeys encrypt the payloads of Temporal histories
	// (SWITCHBACK_ENCRYPTION_KEY: id:base64key, comma-separated, the first
	// current). Nil: payloads are not encrypted.
	EncryptionKeys []codec.Key
	// CodecToken is the bearer token of the codec endpoint
	// (SWITCHBACK_CODEC_TOKEN).
	CodecToken string
	// CodecCORSOrigin is the Web UI origin allowed to call the codec
	// endpoint (SWITCHBACK_CODEC_CORS_ORIGIN).
	CodecCORSOrigin string
	// APIToken is the bearer token of the /v1 HTTP API
	// (SWITCHBACK_API_TOKEN). Empty: the API is closed, except in `dev` on
	// loopback.
	APIToken string
	// Console configures the web console (SWITCHBACK_CONSOLE_*).
	Console Console
	// MetricsAddr is where the worker serves /metrics and /healthz
	// (SWITCHBACK_METRICS_ADDR). The HTTP server serves /metrics on
	// HTTPAddr as well.
	MetricsAddr string
	// LogFormat is "json" or "text" (SWITCHBACK_LOG_FORMAT). Empty: text in
	// `dev`, JSON elsewhere.
	LogFormat string
	// LogLevel is debug, info, warn or error (SWITCHBACK_LOG_LEVEL).
	LogLevel slog.Level
	// InsecurePlaintext lets `worker` and `serve` run without the
	// encryption and contact keys, and lets a keyed codec decode payloads
	// that are not encrypted (SWITCHBACK_INSECURE_PLAINTEXT=1). Every start
	// then logs a warning.
	InsecurePlaintext bool
	// TemporalTLS is how clients reach a TLS-only Temporal frontend.
	TemporalTLS TemporalTLS
	// TemporalAPIKey is a Temporal Cloud API key
	// (SWITCHBACK_TEMPORAL_API_KEY), sent as a bearer token over TLS.
	TemporalAPIKey string
	// EventsURL receives every message event as a signed POST
	// (SWITCHBACK_EVENTS_URL). Empty: no event stream.
	EventsURL string
	// WebhookSecret signs outbound webhooks, the event stream's included
	// (SWITCHBACK_WEBHOOK_SECRET): whsec_ and the base64 of a key of at
	// least 24 bytes.
	WebhookSecret string
}

// WorkerVersion places a worker process in a Temporal Worker Deployment:
// the server routes each journey's tasks to the deployment's current
// version (README "Upgrading workers"), set by `switchback rollout`.
type WorkerVersion struct {
	// Deployment names the deployment (SWITCHBACK_WORKER_DEPLOYMENT):
	// the same for every build of the workers, without ".".
	Deployment string
	// BuildID names this build (SWITCHBACK_WORKER_BUILD_ID): a new one for
	// every build whose workflow code or built-in journeys change.
	BuildID string
}

// Versioned reports whether the worker takes part in Worker Versioning.
func (v WorkerVersion) Versioned() bool { return v.Deployment != "" }

func (v WorkerVersion) check() error {
	switch {
	case (v.Deployment == "") != (v.BuildID == ""):
		return errors.New("SWITCHBACK_WORKER_DEPLOYMENT and SWITCHBACK_WORKER_BUILD_ID: set both (a versioned worker) or neither")
	case strings.Contains(v.Deployment, "."):
		return fmt.Errorf("SWITCHBACK_WORKER_DEPLOYMENT=%q: no \".\" allowed", v.Deployment)
	case len(v.Deployment) > 255 || len(v.BuildID) > 255:
		return errors.New("SWITCHBACK_WORKER_DEPLOYMENT, SWITCHBACK_WORKER_BUILD_ID: at most 255 characters each")
	}
	return nil
}

// TemporalTLS holds the TLS settings of the Temporal connection. All
// empty (and no API key): plain gRPC.
type TemporalTLS struct {
	CertFile   string // SWITCHBACK_TEMPORAL_TLS_CERT: client certificate (mTLS), PEM
	KeyFile    string // SWITCHBACK_TEMPORAL_TLS_KEY: its private key, PEM
	CAFile     string // SWITCHBACK_TEMPORAL_TLS_CA: CA bundle that signed the server's certificate, PEM; empty: the system's
	ServerName string // SWITCHBACK_TEMPORAL_TLS_SERVER_NAME: name to verify on the server's certificate; empty: the address's host
}

// Enabled reports whether any TLS setting is given.
func (t TemporalTLS) Enabled() bool { return t != TemporalTLS{} }

// WhatsApp holds the WhatsApp Cloud API settings.
type WhatsApp struct {
	AccessToken   string // WHATSAPP_ACCESS_TOKEN
	PhoneNumberID string // WHATSAPP_PHONE_NUMBER_ID
	AppSecret     string // WHATSAPP_APP_SECRET
	VerifyToken   string // WHATSAPP_VERIFY_TOKEN
	APIURL        string // WHATSAPP_API_URL
	WABAID        string // WHATSAPP_WABA_ID, optional: the account whose templates `templates sync` reads
}

// Twilio holds the Twilio settings for SMS.
type Twilio struct {
	AccountSID          string // TWILIO_ACCOUNT_SID
	AuthToken           string // TWILIO_AUTH_TOKEN
	From                string // TWILIO_FROM
	MessagingServiceSID string // TWILIO_MESSAGING_SERVICE_SID
	APIURL              string // TWILIO_API_URL
}

// Defaults of settings left unset.
const (
	DefaultTemporalAddress   = "127.0.0.1:7233"
	DefaultTemporalNamespace = "default"
	DefaultHTTPAddr          = "127.0.0.1:8080"
	DefaultMetricsAddr       = "127.0.0.1:9464"
	DefaultDataDir           = ".switchback"
	DefaultWhatsAppAPIURL    = "https://graph.facebook.com/v23.0"
	DefaultTwilioAPIURL      = "https://api.twilio.com"
	// DefaultWorkerCache is the workflows a worker keeps in memory by
	// default: enough for the journeys busy at once, far fewer than those
	// that wait (the SDK's own default, 10,000, holds memory for them).
	DefaultWorkerCache = 1000
	// DevContactKey keys contact hashes when SWITCHBACK_CONTACT_KEY is unset.
	// It is public: set your own key in production.
	DevContactKey = "switchback-development-contact-key"
)

// FromEnv reads the configuration through getenv (os.Getenv, or a map in
// tests). A provider counts as configured as soon as one of its variables
// is set; it must then be complete. Every error names its variable.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Getenv:            getenv,
		TemporalAddress:   get("SWITCHBACK_TEMPORAL_ADDRESS", DefaultTemporalAddress),
		TemporalNamespace: get("SWITCHBACK_TEMPORAL_NAMESPACE", DefaultTemporalNamespace),
		HTTPAddr:          get("SWITCHBACK_HTTP_ADDR", DefaultHTTPAddr),
		PublicURL:         get("SWITCHBACK_PUBLIC_URL", ""),
		DataDir:           get("SWITCHBACK_DATA_DIR", DefaultDataDir),
		ContactKey:        get("SWITCHBACK_CONTACT_KEY", ""),
		DatabaseURL:       get("SWITCHBACK_DATABASE_URL", ""),
		OptOutKeywords:    list(get("SWITCHBACK_OPT_OUT_KEYWORDS", "")),
		OptInKeywords:     list(get("SWITCHBACK_OPT_IN_KEYWORDS", "")),
		CodecToken:        get("SWITCHBACK_CODEC_TOKEN", ""),
		CodecCORSOrigin:   strings.TrimSuffix(get("SWITCHBACK_CODEC_CORS_ORIGIN", codec.DefaultCORSOrigin), "/"),
		APIToken:          get("SWITCHBACK_API_TOKEN", ""),
		MetricsAddr:       get("SWITCHBACK_METRICS_ADDR", DefaultMetricsAddr),
		LogFormat:         strings.ToLower(get("SWITCHBACK_LOG_FORMAT", "")),
		TemporalTLS: TemporalTLS{
			CertFile:   get("SWITCHBACK_TEMPORAL_TLS_CERT", ""),
			KeyFile:    get("SWITCHBACK_TEMPORAL_TLS_KEY", ""),
			CAFile:     get("SWITCHBACK_TEMPORAL_TLS_CA", ""),
			ServerName: get("SWITCHBACK_TEMPORAL_TLS_SERVER_NAME", ""),
		},
		TemporalAPIKey: get("SWITCHBACK_TEMPORAL_API_KEY", ""),
	}
	var errs []error
	if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_TEMPORAL_ADDRESS=%q: want host:port", c.TemporalAddress))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_HTTP_ADDR=%q: want host:port", c.HTTPAddr))
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL); err != nil {
			errs = append(errs, fmt.Errorf("SWITCHBACK_PUBLIC_URL: %w", err))
		}
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_METRICS_ADDR=%q: want host:port", c.MetricsAddr))
	}
	if f := c.LogFormat; f != "" && f != "json" && f != "text" {
		errs = append(errs, fmt.Errorf("SWITCHBACK_LOG_FORMAT=%q: want json or text", f))
	}
	if l := get("SWITCHBACK_LOG_LEVEL", ""); l != "" {
		if err := c.LogLevel.UnmarshalText([]byte(l)); err != nil {
			errs = append(errs, fmt.Errorf("SWITCHBACK_LOG_LEVEL=%q: want debug, info, warn or error", l))
		}
	}
	if (c.TemporalTLS.CertFile == "") != (c.TemporalTLS.KeyFile == "") {
		errs = append(errs, errors.New("SWITCHBACK_TEMPORAL_TLS_CERT and SWITCHBACK_TEMPORAL_TLS_KEY: set both (mutual TLS) or neither"))
	}
	c.WorkerCache = DefaultWorkerCache
	if n, err := atLeast(get("SWITCHBACK_WORKER_CACHE", ""), 1, "workflows"); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_WORKER_CACHE=%w", err))
	} else if n > 0 {
		c.WorkerCache = n
	}
	if n, err := atLeast(get("SWITCHBACK_WORKER_POLLERS", ""), 2, "pollers per task queue"); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_WORKER_POLLERS=%w", err))
	} else {
		c.WorkerPollers = n
	}
	c.Worker = WorkerVersion{Deployment: get("SWITCHBACK_WORKER_DEPLOYMENT", ""), BuildID: get("SWITCHBACK_WORKER_BUILD_ID", "")}
	if err := c.Worker.check(); err != nil {
		errs = append(errs, err)
	}
	switch v := strings.ToLower(get("SWITCHBACK_INSECURE_PLAINTEXT", "")); v {
	case "", "0", "false":
	case "1", "true":
		c.InsecurePlaintext = true
	default:
		errs = append(errs, fmt.Errorf("SWITCHBACK_INSECURE_PLAINTEXT=%q: want 1 or 0", v))
	}
	c.DataDir = filepath.Clean(c.DataDir)
	if u := c.DatabaseURL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		errs = append(errs, errors.New("SWITCHBACK_DATABASE_URL: want a postgres:// URL (leave it unset for SQLite under SWITCHBACK_DATA_DIR)"))
	}

	if k := get("SWITCHBACK_ENCRYPTION_KEY", ""); k != "" {
		keys, err := codec.ParseKeys(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("SWITCHBACK_ENCRYPTION_KEY: %w", err))
		}
		c.EncryptionKeys = keys
	}
	if err := checkURL(c.CodecCORSOrigin); err != nil {
		errs = append(errs, fmt.Errorf("SWITCHBACK_CODEC_CORS_ORIGIN: %w", err))
	}

	if anySet(getenv, "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_API_URL") {
		w := &WhatsApp{
			AccessToken:   get("WHATSAPP_ACCESS_TOKEN", ""),
			PhoneNumberID: get("WHATSAPP_PHONE_NUMBER_ID", ""),
			AppSecret:     get("WHATSAPP_APP_SECRET", ""),
			VerifyToken:   get("WHATSAPP_VERIFY_TOKEN", ""),
			APIURL:        strings.TrimSuffix(get("WHATSAPP_API_URL", DefaultWhatsAppAPIURL), "/"),
			WABAID:        get("WHATSAPP_WABA_ID", ""),
		}
		errs = append(errs, required(map[string]string{
			"WHATSAPP_ACCESS_TOKEN":    w.AccessToken,
			"WHATSAPP_PHONE_NUMBER_ID": w.PhoneNumberID,
			"WHATSAPP_APP_SECRET":      w.AppSecret,
			"WHATSAPP_VERIFY_TOKEN":    w.VerifyToken,
		}, "WhatsApp")...)
		if err := checkURL(w.APIURL); err != nil {
			errs = append(errs, fmt.Errorf("WHATSAPP_API_URL: %w", err))
		}
		c.WhatsApp = w
	}
	if anySet(getenv, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_URL") {
		t := &Twilio{
			AccountSID:          get("TWILIO_ACCOUNT_SID", ""),
			AuthToken:           get("TWILIO_AUTH_TOKEN", ""),
			From:                get("TWILIO_FROM", ""),
			MessagingServiceSID: get("TWILIO_MESSAGING_SERVICE_SID", ""),
			APIURL:              strings.TrimSuffix(get("TWILIO_API_URL", DefaultTwilioAPIURL), "/"),
		}
		errs = append(errs, required(map[string]string{
			"TWILIO_ACCOUNT_SID": t.AccountSID,
			"TWILIO_AUTH_TOKEN":  t.AuthToken,
		}, "Twilio")...)
		if t.AccountSID != "" && !strings.HasPrefix(t.AccountSID, "AC") {
			errs = append(errs, fmt.Errorf("TWILIO_ACCOUNT_SID: an account SID starts with AC"))
		}
		if (t.From == "") == (t.MessagingServiceSID == "") {
			errs = append(errs, errors.New("Twilio: set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID"))
		}
		if err := checkURL(t.APIURL); err != nil {
			errs = append(errs, fmt.Errorf("TWILIO_API_URL: %w", err))
		}
		c.Twilio = t
	}
	var more []error
	c.SendGrid, more = readSendGrid(getenv)
	errs = append(errs, more...)
	c.WhatsAppTwilio, more = readWhatsAppTwilio(getenv, c.Twilio)
	errs = append(errs, more...)
	c.WhatsAppBusinessNumber, more = readBusinessNumber(getenv)
	errs = append(errs, more...)
	c.FrequencyCaps, more = readCaps(getenv)
	errs = append(errs, more...)
	c.MessagingLimits, more = readLimits(getenv)
	errs = append(errs, more...)
	c.Guard, more = readGuard(getenv)
	errs = append(errs, more...)
	c.Console, more = readConsole(get)
	errs = append(errs, more...)
	errs = append(errs, readEvents(getenv, &c)...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// PublicURLOrDefault returns PublicURL, or http://HTTPAddr when unset.
func (c Config) PublicURLOrDefault() string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	return "http://" + c.HTTPAddr
}

// ErrNoKeys is the error of CheckKeys.
var ErrNoKeys = errors.New("keys are not set")

// CheckKeys returns an error wrapping ErrNoKeys that names each of
// SWITCHBACK_ENCRYPTION_KEY and SWITCHBACK_CONTACT_KEY that is unset, and
// the command that makes them, unless InsecurePlaintext is set. Production
// commands call it before they start.
func (c Config) CheckKeys() error {
	if c.InsecurePlaintext {
		return nil
	}
	var missing []string
	if len(c.EncryptionKeys) == 0 {
		missing = append(missing, "SWITCHBACK_ENCRYPTION_KEY (encrypts codes, numbers and emails in Temporal history)")
	}
	if c.ContactKey == "" {
		missing = append(missing, "SWITCHBACK_CONTACT_KEY (keys the SwitchbackContact hash)")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: set %s; `switchback keys` prints a new pair to put in the environment (or set SWITCHBACK_INSECURE_PLAINTEXT=1 to run without them)",
		ErrNoKeys, strings.Join(missing, " and "))
}

// ContactKeyOrDefault returns the contact key, or DevContactKey when unset.
func (c Config) ContactKeyOrDefault() []byte {
	if c.ContactKey == "" {
		return []byte(DevContactKey)
	}
	return []byte(c.ContactKey)
}

// list splits a comma-separated setting, dropping empty items; "" is nil.
func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func anySet(getenv func(string) string, names ...string) bool {
	for _, n := range names {
		if strings.TrimSpace(getenv(n)) != "" {
			return true
		}
	}
	return false
}

// required reports each empty value of a partly configured provider, in
// name order so that messages are stable.
func required(values map[string]string, provider string) []error {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	var errs []error
	for _, n := range names {
		if values[n] == "" {
			errs = append(errs, fmt.Errorf("%s is configured but %s is not set", provider, n))
		}
	}
	return errs
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an absolute http or https URL", s)
	}
	return nil
}

// atLeast reads v, a setting's value, as a count of what of at least min;
// empty: zero.
func atLeast(v string, min int, what string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%q: want a number of %s, %d or more", v, what, min)
	}
	return n, nil
}
