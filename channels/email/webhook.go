package email

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/switchbackhq/switchback/channels"
)

// The headers of a signed Event Webhook request.
const (
	SignatureHeader = eventwebhook.VerificationHTTPHeader
	TimestampHeader = eventwebhook.TimestampHTTPHeader
)

// DefaultMaxSkew is how far a signed timestamp may be from now before the
// request is refused as a replay.
const DefaultMaxSkew = 5 * time.Minute

// Errors from Verifier.Verify. A request that fails verification should be
// answered with 403 and otherwise ignored.
var (
	ErrSignatureMissing   = errors.New("sendgrid webhook: signature or timestamp header is missing")
	ErrSignatureMalformed = errors.New("sendgrid webhook: signature is not base64 of an ASN.1 ECDSA signature")
	ErrSignatureMismatch  = errors.New("sendgrid webhook: signature does not match the timestamp and body")
	ErrTimestampStale     = errors.New("sendgrid webhook: timestamp is too far from now (replayed?)")
)

// ParsePublicKey parses the Event Webhook verification key as SendGrid
// shows it: the base64 of a DER SubjectPublicKeyInfo holding an ECDSA key.
func ParsePublicKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("sendgrid webhook public key is not base64: %w", err)
	}
	// Parsed here rather than by eventwebhook.ConvertPublicKeyBase64ToECDSA,
	// which panics on a key that is not ECDSA.
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid webhook public key: %w", err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("sendgrid webhook public key is a %T, want an ECDSA key", key)
	}
	return pub, nil
}

// Verifier checks signed Event Webhook requests.
type Verifier struct {
	// Key is the verification key (SENDGRID_WEBHOOK_PUBLIC_KEY).
	Key *ecdsa.PublicKey
	// MaxSkew bounds |now - timestamp|; zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verify checks signature and timestamp, the values of SignatureHeader and
// TimestampHeader, against body, the raw request body: the ECDSA signature
// must cover the timestamp followed by the body, and the timestamp (Unix
// seconds) must be within MaxSkew of now. The error is one of
// ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch and
// ErrTimestampStale.
func (v Verifier) Verify(body []byte, signature, timestamp string) error {
	if signature == "" || timestamp == "" {
		return ErrSignatureMissing
	}
	ok, err := eventwebhook.VerifySignature(v.Key, body, signature, timestamp)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", ErrSignatureMalformed, err)
	case !ok:
		return ErrSignatureMismatch
	}
	// Checked after the signature, so that only SendGrid's own timestamps
	// are judged.
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestampStale, timestamp)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if d := now().Sub(time.Unix(secs, 0)); d > skew || d < -skew {
		return fmt.Errorf("%w: %s off", ErrTimestampStale, d.Round(time.Second))
	}
	return nil
}

// EventKind is the kind of an Event Webhook event.
type EventKind string

// The event kinds SendGrid documents.
const (
	EventProcessed        EventKind = "processed"
	EventDeferred         EventKind = "deferred"
	EventDelivered        EventKind = "delivered"
	EventBounce           EventKind = "bounce"
	EventDropped          EventKind = "dropped"
	EventOpen             EventKind = "open"
	EventClick            EventKind = "click"
	EventSpamReport       EventKind = "spamreport"
	EventUnsubscribe      EventKind = "unsubscribe"
	EventGroupUnsubscribe EventKind = "group_unsubscribe"
	EventGroupResubscribe EventKind = "group_resubscribe"
)

// Status returns the delivery status an event of kind k reports, and false
// for kinds that report none (deferred, spam reports, unsubscribes, unknown
// kinds). A click implies the message was read.
func (k EventKind) Status() (channels.Status, bool) {
	switch k {
	case EventProcessed:
		return channels.StatusAccepted, true
	case EventDelivered:
		return channels.StatusDelivered, true
	case EventBounce, EventDropped:
		return channels.StatusFailed, true
	case EventOpen, EventClick:
		return channels.StatusRead, true
	}
	return "", false
}

// Suppression reports whether an event of kind k asks that the recipient
// get no more email (of the group, for group_unsubscribe): the store
// should record a suppression.
func (k EventKind) Suppression() bool {
	return k == EventSpamReport || k == EventUnsubscribe || k == EventGroupUnsubscribe
}

// ErrMalformedEvents is wrapped by every error of ParseEvents.
var ErrMalformedEvents = errors.New("malformed sendgrid events")

// Event is one Event Webhook event.
type Event struct {
	Kind  EventKind
	Email string
	// Timestamp is the time of the event, in Unix seconds.
	Timestamp int64
	// EventID is sg_event_id, unique per event: the deduplication key.
	EventID string
	// SGMessageID is sg_message_id; absent on some asynchronous bounces.
	SGMessageID string
	// MessageID is the X-Message-Id the send returned: sg_message_id up to
	// its first dot.
	MessageID string
	// Reason explains a bounce or drop; Response is the receiving server's
	// answer on delivered and deferred; Status is the SMTP status code;
	// BounceType is "bounce" or "blocked"; Attempt counts deferrals.
	Reason, Response, Status, BounceType, Attempt string
	// URL is the link clicked; ASMGroupID the unsubscribe group.
	URL        string
	ASMGroupID int
	Categories []string
	// Correlation is read from the custom args when HasCorrelation.
	Correlation    channels.Correlation
	HasCorrelation bool
}

// StatusUpdate returns the status ev reports, and false for events that
// report none.
func (ev Event) StatusUpdate() (channels.StatusUpdate, bool) {
	st, ok := ev.Kind.Status()
	if !ok {
		return channels.StatusUpdate{}, false
	}
	u := channels.StatusUpdate{
		Provider:  Provider,
		MessageID: ev.MessageID,
		Status:    st,
		Timestamp: ev.Timestamp,
	}
	if ev.HasCorrelation {
		u.Attempt = ev.Correlation.Attempt
	}
	if st == channels.StatusFailed {
		u.ErrorCode = string(ev.Kind)
		if ev.BounceType != "" && ev.BounceType != string(ev.Kind) {
			u.ErrorCode += "_" + ev.BounceType
		}
		u.ErrorReason = ev.Reason
		if ev.Status != "" {
			u.ErrorReason = strings.TrimSpace(ev.Status + " " + ev.Reason)
		}
	}
	return u, true
}

// rawEvent is an event as posted; custom args are extra top-level keys.
type rawEvent struct {
	Email       string          `json:"email"`
	Timestamp   json.Number     `json:"timestamp"`
	Event       string          `json:"event"`
	SGEventID   string          `json:"sg_event_id"`
	SGMessageID string          `json:"sg_message_id"`
	Reason      string          `json:"reason"`
	Response    string          `json:"response"`
	Status      string          `json:"status"`
	Type        string          `json:"type"`
	Attempt     json.RawMessage `json:"attempt"`
	URL         string          `json:"url"`
	ASMGroupID  int             `json:"asm_group_id"`
	Category    json.RawMessage `json:"category"`
	WorkflowID  string          `json:"sb_wf"`
	AttemptArg  string          `json:"sb_attempt"`
}

// ParseEvents decodes an Event Webhook body, a JSON array of events. Every
// error wraps ErrMalformedEvents. Events of kinds Switchback does not know
// are returned too, with their Kind as SendGrid wrote it.
func ParseEvents(body []byte) ([]Event, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedEvents)
	}
	var raws []rawEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raws); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of events: %v", ErrMalformedEvents, err)
	}
	events := make([]Event, 0, len(raws))
	for i, r := range raws {
		ev, err := r.event()
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %v", ErrMalformedEvents, i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

func (r rawEvent) event() (Event, error) {
	if r.Event == "" {
		return Event{}, errors.New("no event kind")
	}
	ev := Event{
		Kind:        EventKind(r.Event),
		Email:       r.Email,
		EventID:     r.SGEventID,
		SGMessageID: r.SGMessageID,
		MessageID:   strings.SplitN(r.SGMessageID, ".", 2)[0],
		Reason:      r.Reason,
		Response:    r.Response,
		Status:      r.Status,
		BounceType:  r.Type,
		URL:         r.URL,
		ASMGroupID:  r.ASMGroupID,
	}
	if r.Timestamp != "" {
		ts, err := r.Timestamp.Int64()
		if err != nil {
			return Event{}, fmt.Errorf("timestamp %q is not Unix seconds", r.Timestamp)
		}
		ev.Timestamp = ts
	}
	// attempt is documented as a string; accept a number as well.
	if len(r.Attempt) > 0 && string(r.Attempt) != "null" {
		var s string
		if json.Unmarshal(r.Attempt, &s) != nil {
			s = string(r.Attempt)
		}
		ev.Attempt = s
	}
	// category mirrors what was sent: a string or an array of strings.
	if len(r.Category) > 0 && string(r.Category) != "null" {
		var one string
		if err := json.Unmarshal(r.Category, &one); err == nil {
			ev.Categories = []string{one}
		} else if err := json.Unmarshal(r.Category, &ev.Categories); err != nil {
			return Event{}, fmt.Errorf("category is neither a string nor an array of strings")
		}
	}
	if r.WorkflowID != "" {
		if n, err := strconv.Atoi(r.AttemptArg); err == nil && n > 0 {
			ev.Correlation = channels.Correlation{WorkflowID: r.WorkflowID, Attempt: n}
			ev.HasCorrelation = true
		}
	}
	return ev, nil
}
