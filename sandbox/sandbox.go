// Package sandbox serves lookalikes of the WhatsApp Cloud API messages
// endpoint, Twilio's Messages resource and SendGrid's Mail Send, for
// `switchback dev` and for tests.
//
// The lookalikes check credentials and request bodies the way the real
// providers do, answer with the real response and error shapes, and then
// post status callbacks back to Switchback's webhooks, signed as the real
// providers sign them (X-Hub-Signature-256 for WhatsApp, X-Twilio-Signature
// for Twilio, an ECDSA signature for SendGrid's Event Webhook). The real clients therefore run the same code path against a
// Sandbox as in production: only the base URL differs.
//
// What happens to a send depends on its recipient. Most numbers are
// delivered; the magic recipients listed by Outcomes (WhatsAppUndeliverable,
// WhatsAppWindowClosed, Unreachable, ...) fail in the ways a journey must
// handle.
package sandbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchbackhq/switchback/internal/logging"
)

// Provider names, as recorded in SentMessage.Provider.
const (
	ProviderWhatsApp = "whatsapp" // the WhatsApp Cloud API lookalike
	ProviderTwilio   = "twilio"   // the Twilio Messages lookalike
)

// Defaults for zero Config fields.
const (
	DefaultStatusDelay      = 100 * time.Millisecond
	DefaultLateDelay        = 45 * time.Second
	DefaultCallbackAttempts = 6
	DefaultCallbackBackoff  = 200 * time.Millisecond
	DefaultWABAID           = "102290129340398"
	DefaultDisplayPhone     = "15550783881"

	maxCallbackBackoff = 5 * time.Second
	maxRequestBody     = 1 << 20
)

// Config configures a Sandbox. The webhook URL and all credentials are
// required; the other fields have defaults.
type Config struct {
	// WhatsAppWebhookURL is where WhatsApp status callbacks are POSTed,
	// e.g. http://127.0.0.1:8080/webhooks/whatsapp.
	WhatsAppWebhookURL string
	// AppSecret is the Meta app secret that signs X-Hub-Signature-256.
	AppSecret string
	// AccessToken is the Bearer token the Graph lookalike requires. Other
	// tokens are refused with HTTP 401 and Graph error 190.
	AccessToken string
	// PhoneNumberID is the only business phone number id accepted in the
	// path. Others are refused with HTTP 400 and Graph error 100.
	PhoneNumberID string
	// WABAID is the WhatsApp Business Account id put in callback entries.
	// Default DefaultWABAID.
	WABAID string
	// DisplayPhoneNumber is the business number put in callback metadata.
	// Default DefaultDisplayPhone.
	DisplayPhoneNumber string
	// MessagingLimit is the tier GET /{version}/{phone_number_id}
	// reports, e.g. TIER_250. Default DefaultMessagingLimit.
	MessagingLimit string

	// TwilioAccountSID and TwilioAuthToken are the Basic auth credentials
	// the Twilio lookalike requires. The auth token also signs callbacks.
	TwilioAccountSID string
	TwilioAuthToken  string

	// SendGridAPIKey is the Bearer key the SendGrid lookalike requires.
	// Empty turns the SendGrid lookalike off.
	SendGridAPIKey string
	// SendGridWebhookURL is where Event Webhook posts go, e.g.
	// http://127.0.0.1:8080/webhooks/sendgrid; required with SendGridAPIKey.
	SendGridWebhookURL string
	// SendGridSigningKey signs the Event Webhook posts. Nil means a new
	// key; SendGridPublicKey returns its public half.
	SendGridSigningKey *ecdsa.PrivateKey

	// StatusDelay is the pause before each status callback. Zero means
	// DefaultStatusDelay; a negative value means no pause.
	StatusDelay time.Duration
	// LateDelay is the pause before the delivered status of a send to
	// WhatsAppDeliveredLate. Zero or negative means DefaultLateDelay.
	LateDelay time.Duration

	// CallbackAttempts bounds how often one callback is tried before it is
	// dropped. Zero or negative means DefaultCallbackAttempts.
	CallbackAttempts int
	// CallbackBackoff is the pause after the first failed try of a callback;
	// it doubles after each further failure, up to 5s. Zero or negative
	// means DefaultCallbackBackoff.
	CallbackBackoff time.Duration

	// HTTPClient posts callbacks. Nil means a client with a 10s timeout.
	HTTPClient *http.Client
	// Logger receives a line per accepted send and per failed callback.
	// Nil means no logging.
	Logger *slog.Logger
}

// SentMessage is a send that a lookalike accepted.
type SentMessage struct {
	Provider string   // ProviderWhatsApp or ProviderTwilio
	ID       string   // the wamid or the Twilio message SID
	To       string   // the recipient as the request gave it
	Type     string   // "template" or "text" for WhatsApp, "sms" for Twilio
	Template string   // template name, for WhatsApp templates
	Language string   // template language code, for WhatsApp templates
	Params   []string // text of the template's body parameters, in order
	Body     string   // text body, for WhatsApp text and interactive, SMS and email text/plain
	// Choices are the reply buttons or list rows of a WhatsApp
	// interactive message, which a customer may pick (CustomerChooses).
	Choices []Choice
	Subject string    // email subject (Template holds a SendGrid template id)
	Outcome string    // name of the magic recipient, e.g. "WhatsAppSilent", or "DefaultRecipient"
	Time    time.Time // when the send was accepted

	// CallbackData is the WhatsApp biz_opaque_callback_data, if any.
	CallbackData string
	// StatusCallback is the Twilio StatusCallback URL, if any.
	StatusCallback string
	// CustomArgs are the SendGrid custom_args, if any.
	CustomArgs map[string]string
}

// A Sandbox serves the provider lookalikes. Create one with New, serve its
// Handler, and Close it when done.
type Sandbox struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	mux    *http.ServeMux
	sgKey  *ecdsa.PrivateKey // nil: no SendGrid lookalike

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	sent    []SentMessage
	refused map[string]bool // digits of recipients already refused once
	calls   CallbackStats
	// templates holds the status of templates whose status changed
	// (TemplateStatusChanges), by templateKey; others have Templates'.
	templates map[string]string
}

// CallbackStats counts the status callbacks a Sandbox has posted.
type CallbackStats struct {
	// Started counts callbacks begun: each is tried until it is answered
	// 2xx, its attempts run out, or the Sandbox closes.
	Started int
	// Answered counts callbacks finally answered 2xx.
	Answered int
	// Retried counts tries that failed (a non-2xx answer or no answer)
	// and were followed by another try.
	Retried int
	// Dropped counts callbacks given up after their last attempt, or
	// stopped by Close.
	Dropped int
}

// Pending is the number of callbacks still being tried.
func (c CallbackStats) Pending() int { return c.Started - c.Answered - c.Dropped }

// New checks cfg, fills in defaults and returns a Sandbox.
func New(cfg Config) (*Sandbox, error) {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"WhatsAppWebhookURL", cfg.WhatsAppWebhookURL},
		{"AppSecret", cfg.AppSecret},
		{"AccessToken", cfg.AccessToken},
		{"PhoneNumberID", cfg.PhoneNumberID},
		{"TwilioAccountSID", cfg.TwilioAccountSID},
		{"TwilioAuthToken", cfg.TwilioAuthToken},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("sandbox: missing config %s", strings.Join(missing, ", "))
	}
	if err := checkCallbackURL(cfg.WhatsAppWebhookURL); err != nil {
		return nil, fmt.Errorf("sandbox: WhatsAppWebhookURL: %w", err)
	}
	if cfg.WABAID == "" {
		cfg.WABAID = DefaultWABAID
	}
	if cfg.DisplayPhoneNumber == "" {
		cfg.DisplayPhoneNumber = DefaultDisplayPhone
	}
	if cfg.MessagingLimit == "" {
		cfg.MessagingLimit = DefaultMessagingLimit
	}
	switch {
	case cfg.StatusDelay == 0:
		cfg.StatusDelay = DefaultStatusDelay
	case cfg.StatusDelay < 0:
		cfg.StatusDelay = 0
	}
	if cfg.LateDelay <= 0 {
		cfg.LateDelay = DefaultLateDelay
	}
	if cfg.CallbackAttempts <= 0 {
		cfg.CallbackAttempts = DefaultCallbackAttempts
	}
	if cfg.CallbackBackoff <= 0 {
		cfg.CallbackBackoff = DefaultCallbackBackoff
	}
	s := &Sandbox{
		cfg:     cfg,
		log:     cfg.Logger,
		client:  cfg.HTTPClient,
		refused: make(map[string]bool),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /{version}/{phone_number_id}/messages", s.serveWhatsApp)
	s.mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.serveTwilio)
	s.mux.HandleFunc("GET /{version}/{waba_id}/message_templates", s.serveTemplates)
	s.mux.HandleFunc("GET /{version}/{phone_number_id}", s.serveNumber)
	s.mux.HandleFunc("POST /inbound/whatsapp", s.serveInbound)
	s.mux.HandleFunc("POST /account", s.serveAccount)
	if cfg.SendGridAPIKey != "" {
		if err := checkCallbackURL(cfg.SendGridWebhookURL); err != nil {
			return nil, fmt.Errorf("sandbox: SendGridWebhookURL: %w", err)
		}
		s.sgKey = cfg.SendGridSigningKey
		if s.sgKey == nil {
			key, _, err := NewSendGridKey()
			if err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}
			s.sgKey = key
		}
		s.mux.HandleFunc("POST /v3/mail/send", s.serveSendGrid)
	}
	return s, nil
}

// Handler returns the HTTP handler serving both lookalikes:
//
//	POST /{version}/{phone_number_id}/messages        (WhatsApp Cloud API)
//	GET  /{version}/{waba_id}/message_templates       (WhatsApp templates)
//	GET  /{version}/{phone_number_id}                 (WhatsApp number: tier)
//	POST /2010-04-01/Accounts/{sid}/Messages.json     (Twilio)
//	POST /v3/mail/send                                (SendGrid, when configured)
func (s *Sandbox) Handler() http.Handler { return s.mux }

// Close stops pending status callbacks and waits for them to return. Sends
// that arrive after Close are refused as if the provider were unavailable.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Sent returns the sends accepted so far, oldest first.
func (s *Sandbox) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentMessage, len(s.sent))
	for i, m := range s.sent {
		m.Params = slices.Clone(m.Params)
		m.Choices = slices.Clone(m.Choices)
		m.CustomArgs = maps.Clone(m.CustomArgs)
		out[i] = m
	}
	return out
}

// Callbacks returns the counts of status callbacks so far.
func (s *Sandbox) Callbacks() CallbackStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// count adds to the callback counts under mu.
func (s *Sandbox) count(f func(*CallbackStats)) {
	s.mu.Lock()
	f(&s.calls)
	s.mu.Unlock()
}

// refuseOnce reports whether a send to the number with digits d should be
// refused under r, and remembers the refusal when r refuses only the first
// send.
// hang holds a send whose rule says never answer until the client gives
// up (or the sandbox closes), and reports whether it did.
func (s *Sandbox) hang(r rule, req *http.Request) bool {
	if !r.hang {
		return false
	}
	select {
	case <-req.Context().Done():
	case <-s.ctx.Done():
	}
	return true
}

func (s *Sandbox) refuseOnce(r rule, d string) bool {
	if r.refuse == 0 {
		return false
	}
	if !r.firstOnly {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused[d] {
		return false
	}
	s.refused[d] = true
	return true
}

// accept records m and starts callbacks, if any, in the background. It
// reports false if the Sandbox is closed.
func (s *Sandbox) accept(m SentMessage, callbacks func(ctx context.Context)) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.sent = append(s.sent, m)
	if callbacks != nil {
		// Under mu, so that Close cannot start waiting in between.
		s.wg.Go(func() { callbacks(s.ctx) })
	}
	s.mu.Unlock()
	s.log.Info("sandbox: message accepted", "provider", m.Provider, "id", m.ID,
		"to", maskPhone(m.To), "type", m.Type, "template", m.Template, "outcome", m.Outcome)
	return true
}

// pause waits for d or until ctx is done, and reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// delay returns the pause before st.
func (s *Sandbox) delay(st step) time.Duration {
	if st.late {
		return s.cfg.LateDelay
	}
	return s.cfg.StatusDelay
}

// callback is one status callback request, tried until it is answered 2xx.
type callback struct {
	provider string
	status   string
	id       string // message id, for logs
	url      string
	body     []byte
	header   http.Header
}

// deliver posts cb, retrying with backoff on network errors and non-2xx
// answers, as a real provider does, until the attempts run out or ctx ends.
func (s *Sandbox) deliver(ctx context.Context, cb callback) error {
	s.count(func(c *CallbackStats) { c.Started++ })
	err := s.retry(ctx, cb)
	s.count(func(c *CallbackStats) {
		if err == nil {
			c.Answered++
		} else {
			c.Dropped++
		}
	})
	return err
}

// retry makes the tries of deliver.
func (s *Sandbox) retry(ctx context.Context, cb callback) error {
	backoff := s.cfg.CallbackBackoff
	var err error
	for attempt := 1; ; attempt++ {
		err = s.post(ctx, cb)
		if err == nil {
			s.log.Debug("sandbox: status callback delivered", "provider", cb.provider,
				"id", cb.id, "status", cb.status, "attempt", attempt)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s callback for %s: %w", cb.provider, cb.status, cb.id, ctx.Err())
		}
		s.log.Warn("sandbox: status callback failed", "provider", cb.provider, "id", cb.id,
			"status", cb.status, "attempt", attempt, "err", err)
		if attempt >= s.cfg.CallbackAttempts {
			break
		}
		s.count(func(c *CallbackStats) { c.Retried++ })
		if !pause(ctx, backoff) {
			return fmt.Errorf("%s %s callback for %s: %w", cb.provider, cb.status, cb.id, ctx.Err())
		}
		backoff = min(2*backoff, maxCallbackBackoff)
	}
	err = fmt.Errorf("%s %s callback for %s: gave up after %d attempts: %w",
		cb.provider, cb.status, cb.id, s.cfg.CallbackAttempts, err)
	s.log.Error("sandbox: status callback dropped", "provider", cb.provider, "id", cb.id,
		"status", cb.status, "err", err)
	return err
}

// post makes one try at delivering cb.
func (s *Sandbox) post(ctx context.Context, cb callback) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.url, bytes.NewReader(cb.body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	for k, v := range cb.header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post: receiver answered %s", resp.Status)
	}
	return nil
}

// WhatsAppSignature returns the X-Hub-Signature-256 header value Meta sends
// with a webhook body: "sha256=" and the lowercase hex HMAC-SHA256 of body
// keyed with the app secret.
func WhatsAppSignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TwilioSignature returns the X-Twilio-Signature header value Twilio sends
// with a form POST of params to fullURL: the padded standard base64 of the
// HMAC-SHA1, keyed with the auth token, of fullURL followed by each
// parameter's name and value, sorted by name (byte order). A name with
// several values contributes each, values sorted.
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// checkCallbackURL reports whether raw is an absolute http or https URL.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// randomHex returns n random bytes in lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// maskPhone masks a recipient's number or address for logs, in the form of
// every log line (logging.Mask), whether or not the sandbox's logger masks.
func maskPhone(p string) string {
	return logging.Mask(p)
}
