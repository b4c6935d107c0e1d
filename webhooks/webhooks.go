// Package webhooks holds the HTTP handlers that providers call: they verify
// each callback's signature, parse it, find the journey it belongs to and
// signal the status to that journey's workflow, or record it in the
// message event log when the journey does not wait for it.
//
// A handler answers 200 only once Temporal has durably accepted every
// signal in the request, and the store every event; when either cannot be
// reached it answers 503 so that the provider retries. Duplicates are
// harmless: journeys and the event log drop them.
package webhooks

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
)

// DefaultMaxBodyBytes bounds a callback's body.
const DefaultMaxBodyBytes = 1 << 20

// Signaler delivers a signal to a workflow; a Temporal client.Client is one.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Recorder records a message event with what it says of the contact.
type Recorder interface {
	RecordEvent(ctx context.Context, req activities.EventRequest) error
}

// Store is the part of store.Store that the webhooks use.
type Store interface {
	// The message index: the journey and the contact of a provider's
	// message.
	LookupMessage(ctx context.Context, provider, messageID string) (store.MessageRef, error)
	MessageContact(ctx context.Context, provider, messageID string) (string, error)
	MarkAwaited(ctx context.Context, provider, messageID string) error

	// Inbound claims make a provider's retry or a replay change nothing.
	ClaimInbound(ctx context.Context, provider, messageID string, at time.Time) (store.InboundClaim, error)
	CompleteInbound(ctx context.Context, provider, messageID string) error

	// Contacts: who wrote, when (the service window), where they can be
	// reached, and what they opted out of or into.
	KnownContact(ctx context.Context, key string) (bool, error)
	UpsertContact(ctx context.Context, c store.Contact) error
	ContactByEmail(ctx context.Context, email string) (store.Contact, error)
	RecordInbound(ctx context.Context, contactKey string, ch channels.Channel, at time.Time) error
	SetReachability(ctx context.Context, r store.Reachability) error
	store.ConsentRecorder
	Suppress(ctx context.Context, s store.Suppression) error
	Unsuppress(ctx context.Context, contactKey string, ch channels.Channel, reason store.SuppressionReason) error

	// The message event log: a reply to each journey it reached.
	RecordEvent(ctx context.Context, e store.MessageEvent) (bool, error)
}

// Config configures the webhook handlers. A provider whose secret is empty
// has no handler: its routes answer 404.
type Config struct {
	// WhatsAppAppSecret checks X-Hub-Signature-256 (WHATSAPP_APP_SECRET).
	WhatsAppAppSecret string
	// WhatsAppVerifyToken answers Meta's subscription handshake (WHATSAPP_VERIFY_TOKEN).
	WhatsAppVerifyToken string
	// WhatsAppPhoneNumberID is the id of our business phone number
	// (WHATSAPP_PHONE_NUMBER_ID). Statuses and messages of another number
	// on the same Meta app are answered 200 and ignored, logged and passed
	// to OtherNumberIgnored. Empty: every number's are taken.
	WhatsAppPhoneNumberID string
	// OtherNumberIgnored, if set, is called once for each WhatsApp change
	// ignored because it concerns another phone number, for metrics.
	OtherNumberIgnored func()
	// TwilioAuthToken checks X-Twilio-Signature (TWILIO_AUTH_TOKEN).
	TwilioAuthToken string
	// SendGridPublicKey checks the signed Event Webhook
	// (SENDGRID_WEBHOOK_PUBLIC_KEY, base64 DER as SendGrid shows it).
	SendGridPublicKey string
	// SendGridMaxSkew bounds the age of a signed timestamp (default 5m).
	SendGridMaxSkew time.Duration
	// SendGridEvent, if set, receives every SendGrid event that reports no
	// delivery status (deferred, spamreport, unsubscribe, ...), for the
	// store to record; a suppression request has Kind.Suppression() true.
	// An error answers 503 so that SendGrid retries. Nil: logged only.
	SendGridEvent func(ctx context.Context, ev email.Event) error
	// TemplateStatus, if set, receives each WhatsApp
	// message_template_status_update (the template registry applies it).
	// An error answers 503 so that Meta retries. Nil: logged only.
	TemplateStatus func(ctx context.Context, u whatsapp.TemplateStatusUpdate) error
	// NumberState, if set, receives what each WhatsApp
	// phone_number_quality_update says of the business number (its tier,
	// FLAGGED, ...), for the store to record: broadcasts read it. An error
	// answers 503 so that Meta retries. Nil: logged only.
	NumberState func(ctx context.Context, st store.NumberState) error
	// PublicURL is the externally visible base URL of this server
	// (SWITCHBACK_PUBLIC_URL): Twilio signs the URL it called.
	PublicURL string
	// Temporal receives the status signals.
	Temporal Signaler
	// SignalName is the workflow signal that carries a channels.StatusUpdate.
	SignalName string
	// Recorder, if set, records in the message event log the statuses a
	// journey does not wait for (see Handler.recordInstead), with what they
	// say of the contact, instead of signalling each to the journey: a
	// signal is a workflow task. *activities.Activities is one. Nil: every
	// status is signalled.
	Recorder Recorder
	// Messages finds the journey of a status that carries no correlation,
	// and records what inbound messages and SendGrid events say of their
	// contacts.
	Messages Store
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// SignalTimeout bounds the signalling of one request (default 10s).
	SignalTimeout time.Duration
	// Journeys finds the running journeys of the sender of an inbound
	// message (a Temporal client); nil: inbound messages are recorded but
	// not delivered to journeys.
	Journeys JourneyLister
	// ContactKey keys contact keys (SWITCHBACK_CONTACT_KEY).
	ContactKey []byte
	// Keywords of inbound messages; empty lists take DefaultKeywords'.
	Keywords Keywords
	// Now is the clock of inbound messages without a time (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// SignatureRejected, if set, is called with the provider ("whatsapp",
	// "twilio", "sendgrid") of each request refused for a bad or missing
	// signature, for metrics.
	SignatureRejected func(provider string)
}

// Handler serves the provider webhooks:
//
//	GET  /webhooks/whatsapp       Meta's verification handshake
//	POST /webhooks/whatsapp       WhatsApp Cloud API notifications
//	POST /webhooks/twilio/status  Twilio message status callbacks
//	POST /webhooks/twilio/inbound Twilio inbound messages (SMS)
//	POST /webhooks/sendgrid       SendGrid Event Webhook (signed)
type Handler struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.SignalTimeout <= 0 {
		cfg.SignalTimeout = 10 * time.Second
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.WhatsAppAppSecret != "" {
		h.mux.HandleFunc("GET /webhooks/whatsapp", h.whatsAppHandshake)
		h.mux.HandleFunc("POST /webhooks/whatsapp", h.whatsAppNotification)
	}
	if cfg.TwilioAuthToken != "" {
		h.mux.HandleFunc("POST /webhooks/twilio/status", h.twilioStatus)
		h.mux.HandleFunc("POST /webhooks/twilio/inbound", h.twilioInbound)
	}
	if cfg.SendGridPublicKey != "" {
		h.mux.HandleFunc("POST /webhooks/sendgrid", h.sendGridEvents)
	}
	return h
}

// ServeHTTP routes a request to its provider's handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) whatsAppHandshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || h.cfg.WhatsAppVerifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.WhatsAppVerifyToken)) != 1 {
		h.log.Warn("whatsapp webhook handshake refused", "mode", q.Get("hub.mode"))
		http.Error(w, "verification failed: hub.mode must be subscribe and hub.verify_token must match WHATSAPP_VERIFY_TOKEN", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, q.Get("hub.challenge"))
}

func (h *Handler) whatsAppNotification(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r, "whatsapp")
	if !ok {
		return
	}
	if err := whatsapp.VerifySignature(body, r.Header.Get("X-Hub-Signature-256"), h.cfg.WhatsAppAppSecret); err != nil {
		h.log.Warn("whatsapp webhook signature rejected", "error", err)
		h.signatureRejected("whatsapp")
		http.Error(w, "bad signature: "+err.Error(), http.StatusForbidden)
		return
	}
	n, err := whatsapp.ParseNotification(body)
	if err != nil {
		http.Error(w, "malformed notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.dropOtherNumbers(n)
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SignalTimeout)
	defer cancel()
	for _, ev := range n.StatusEvents() {
		var corr *channels.Correlation
		if ev.HasCorrelation {
			corr = &ev.Correlation
		}
		if err := h.deliver(ctx, ev.Update, corr); err != nil {
			h.unavailable(w, "whatsapp", ev.Update, err)
			return
		}
	}
	if err := h.whatsAppInbound(ctx, n); err != nil {
		h.inboundFailed(w, "whatsapp", "", err)
		return
	}
	if !h.whatsAppTemplateStatus(ctx, w, n) || !h.whatsAppNumberQuality(ctx, w, n) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) twilioStatus(w http.ResponseWriter, r *http.Request) {
	form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	u, corr, hasCorr, err := twilio.ParseStatusCallback(r.URL.Query(), form)
	if err != nil {
		http.Error(w, "malformed status callback: "+err.Error(), http.StatusBadRequest)
		return
	}
	var c *channels.Correlation
	if hasCorr {
		c = &corr
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SignalTimeout)
	defer cancel()
	if err := h.deliver(ctx, u, c); err != nil {
		h.unavailable(w, "twilio", u, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// dropOtherNumbers removes from n the messages changes of a phone number
// other than Config.WhatsAppPhoneNumberID, logging and counting each.
func (h *Handler) dropOtherNumbers(n *whatsapp.Notification) {
	ours := h.cfg.WhatsAppPhoneNumberID
	if ours == "" {
		return
	}
	for i, e := range n.Entry {
		kept := e.Changes[:0]
		for _, c := range e.Changes {
			if id := c.Value.Metadata.PhoneNumberID; c.Field == whatsapp.FieldMessages && id != ours {
				h.log.Warn("whatsapp change for another phone number; ignored", "phone_number_id", id,
					"statuses", len(c.Value.Statuses), "messages", len(c.Value.Messages))
				if h.cfg.OtherNumberIgnored != nil {
					h.cfg.OtherNumberIgnored()
				}
				continue
			}
			kept = append(kept, c)
		}
		n.Entry[i].Changes = kept
	}
}

// deliver signals u to the journey that sent the message, or records it
// in the event log when the journey does not wait for it (recordInstead).
// A status for a journey that no longer exists is recorded when its
// message is known, else logged and dropped, as is one for a message no
// journey sent: the provider must stop retrying it.
func (h *Handler) deliver(ctx context.Context, u channels.StatusUpdate, corr *channels.Correlation) error {
	ref, known, err := h.findMessage(ctx, u, corr)
	if err != nil || (!known && corr == nil) {
		return err
	}
	if corr == nil {
		corr = &channels.Correlation{WorkflowID: ref.WorkflowID, Attempt: ref.Attempt}
	}
	if u.Attempt == 0 {
		u.Attempt = corr.Attempt
	}
	if known && h.recordInstead(ref, u) {
		return h.recordStatus(ctx, ref, u)
	}
	err = h.cfg.Temporal.SignalWorkflow(ctx, corr.WorkflowID, "", h.cfg.SignalName, u)
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		h.markAwaited(ctx, ref, known, u)
		return nil
	case errors.As(err, &notFound) && known && h.cfg.Recorder != nil && u.Status != channels.StatusFailed:
		return h.recordStatus(ctx, ref, u)
	case errors.As(err, &notFound):
		h.log.Info("status for a journey that does not exist or has ended; dropped",
			"workflow_id", corr.WorkflowID, "provider", u.Provider, "message_id", u.MessageID, "status", u.Status)
		return nil
	default:
		return fmt.Errorf("signal journey %s: %w", corr.WorkflowID, err)
	}
}

// findMessage finds the message a status is about in the store: always
// when the status carries no correlation, and when statuses are recorded
// (Config.Recorder) for what its attempt awaits. known is false when the
// store does not have it; an error means the provider should retry.
func (h *Handler) findMessage(ctx context.Context, u channels.StatusUpdate, corr *channels.Correlation) (ref store.MessageRef, known bool, err error) {
	if corr != nil {
		if h.cfg.Recorder == nil || u.MessageID == "" {
			return store.MessageRef{}, false, nil
		}
		ref, err := h.cfg.Messages.LookupMessage(ctx, u.Provider, u.MessageID)
		return ref, err == nil, nil // the correlation finds the journey anyway
	}
	ref, err = h.lookupMessage(ctx, u)
	switch {
	case errors.Is(err, store.ErrNotFound) && h.recent(u):
		// The send that made this message may not have recorded its id yet
		// (a status can beat the API's answer): the provider retries, and
		// by then the id is known.
		return ref, false, fmt.Errorf("status for %s message %s: not yet known to any journey: %w", u.Provider, u.MessageID, err)
	case errors.Is(err, store.ErrNotFound):
		h.log.Warn("status for a message no journey sent; dropped", "provider", u.Provider, "message_id", u.MessageID, "status", u.Status)
		return ref, false, nil
	case err != nil:
		return ref, false, fmt.Errorf("find journey of %s message %s: %w", u.Provider, u.MessageID, err)
	}
	return ref, true, nil
}

// recordInstead reports whether u is a status the journey does not wait
// for, to be recorded rather than signalled: one short of the status its
// attempt awaits (sent, when it awaits delivered), or one past it once a
// status reaching it went to the journey (read after delivered). A failure,
// the awaited status itself, and every status of a message whose attempt's
// await is unknown go to the journey: a journey never misses the status it
// waits for, whatever order they come in; at worst it gets one more.
func (h *Handler) recordInstead(ref store.MessageRef, u channels.StatusUpdate) bool {
	if h.cfg.Recorder == nil || ref.Await == "" || !u.Status.Valid() || u.Status == channels.StatusFailed {
		return false
	}
	return !u.Status.Reached(ref.Await) || (u.Status != ref.Await && ref.Awaited)
}

// recordStatus writes u to the event log as an event of ref's message.
func (h *Handler) recordStatus(ctx context.Context, ref store.MessageRef, u channels.StatusUpdate) error {
	e := activities.StatusEvent(ref, store.EventStatus(u.Status), h.now().UTC())
	e.ErrorCode, e.ErrorReason, e.PricingCategory = u.ErrorCode, u.ErrorReason, u.PricingCategory
	if err := h.cfg.Recorder.RecordEvent(ctx, activities.EventRequest{Event: e}); err != nil {
		return fmt.Errorf("record %s status of %s message %s: %w", u.Status, u.Provider, u.MessageID, err)
	}
	return nil
}

// markAwaited notes in the store that a status reaching its attempt's
// await went to the journey, so that later ones are recorded instead. A
// failure only costs later statuses a signal.
func (h *Handler) markAwaited(ctx context.Context, ref store.MessageRef, known bool, u channels.StatusUpdate) {
	if !known || h.cfg.Recorder == nil || ref.Await == "" || ref.Awaited || !u.Status.Reached(ref.Await) {
		return
	}
	if err := h.cfg.Messages.MarkAwaited(ctx, ref.Provider, ref.MessageID); err != nil {
		h.log.Warn("mark message awaited", "provider", ref.Provider, "message_id", ref.MessageID, "error", err)
	}
}

// unknownGrace is how long after its timestamp a status for a message no
// journey knows is refused with 503 rather than dropped: long enough for
// the send activity to record the message id.
const unknownGrace = 10 * time.Minute

// lookupMessage finds the journey of a message, looking again a few times
// over a second when it is not found: the send that made it may be about
// to record its id.
func (h *Handler) lookupMessage(ctx context.Context, u channels.StatusUpdate) (store.MessageRef, error) {
	for try := 0; ; try++ {
		ref, err := h.cfg.Messages.LookupMessage(ctx, u.Provider, u.MessageID)
		if !errors.Is(err, store.ErrNotFound) || try == 4 || !h.recent(u) {
			return ref, err
		}
		select {
		case <-ctx.Done():
			return ref, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// recent reports whether a status is recent enough that its message may
// still be unknown only because its send has not recorded it yet.
func (h *Handler) recent(u channels.StatusUpdate) bool {
	return u.Timestamp > 0 && h.now().Sub(time.Unix(u.Timestamp, 0)) < unknownGrace
}

func (h *Handler) unavailable(w http.ResponseWriter, provider string, u channels.StatusUpdate, err error) {
	h.log.Error("could not deliver status; asking the provider to retry", "provider", provider,
		"message_id", u.MessageID, "status", u.Status, "error", err)
	w.Header().Set("Retry-After", "5")
	http.Error(w, "temporarily unavailable, retry later", http.StatusServiceUnavailable)
}

// readBody reads the raw body (signatures cover the exact bytes), bounded
// by MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, provider string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.log.Warn("webhook body too large", "provider", provider, "limit", tooBig.Limit)
		http.Error(w, fmt.Sprintf("body larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// signatureRejected reports a request refused for its signature.
func (h *Handler) signatureRejected(provider string) {
	if h.cfg.SignatureRejected != nil {
		h.cfg.SignatureRejected(provider)
	}
}
