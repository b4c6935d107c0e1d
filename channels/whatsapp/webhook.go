package whatsapp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/channels"
)

// SignatureHeader is the HTTP header that carries a webhook's signature.
const SignatureHeader = "X-Hub-Signature-256"

// Errors from VerifySignature. A webhook that fails verification should be
// answered with 403 and otherwise ignored.
var (
	ErrSignatureMissing   = errors.New("whatsapp webhook: signature header is missing")
	ErrSignatureMalformed = errors.New(`whatsapp webhook: signature header is not "sha256=<hex>"`)
	ErrSignatureMismatch  = errors.New("whatsapp webhook: signature does not match the body")
	ErrNoAppSecret        = errors.New("whatsapp webhook: no app secret configured")
)

// VerifySignature checks header, the value of the X-Hub-Signature-256 header,
// against body, the raw request body: the header must be "sha256=" followed by
// the hex HMAC-SHA256 of body keyed with appSecret. The comparison is
// constant-time. The error is one of ErrSignatureMissing,
// ErrSignatureMalformed, ErrSignatureMismatch or ErrNoAppSecret.
//
// Verify the bytes as received: Meta signs its own serialization, so
// re-encoded JSON does not match.
func VerifySignature(body []byte, header, appSecret string) error {
	if appSecret == "" {
		return ErrNoAppSecret
	}
	if header == "" {
		return ErrSignatureMissing
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrSignatureMalformed
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return ErrSignatureMalformed
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrSignatureMismatch
	}
	return nil
}

// ObjectWhatsAppBusinessAccount is the object of every WhatsApp webhook.
const ObjectWhatsAppBusinessAccount = "whatsapp_business_account"

// FieldMessages is the webhook field that carries statuses, inbound messages
// and asynchronous errors.
const FieldMessages = "messages"

// ErrMalformedNotification is wrapped by every error of ParseNotification.
var ErrMalformedNotification = errors.New("malformed whatsapp notification")

// Notification is the body of a webhook POST.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is the notification for one WhatsApp Business Account.
type Entry struct {
	ID      string   `json:"id"` // the WhatsApp Business Account ID
	Changes []Change `json:"changes"`
}

// Change is one change to a subscribed field.
type Change struct {
	Field string `json:"field"`
	// Value is decoded only when Field is FieldMessages; other fields have
	// other shapes and are left in RawValue.
	Value    Value           `json:"value"`
	RawValue json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a change, decoding its value only for the messages
// field, so that notifications for other subscribed fields still parse.
func (c *Change) UnmarshalJSON(data []byte) error {
	var raw struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*c = Change{Field: raw.Field, RawValue: raw.Value}
	if raw.Field != FieldMessages || len(raw.Value) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw.Value, &c.Value); err != nil {
		return fmt.Errorf("value of field %q: %w", raw.Field, err)
	}
	return nil
}

// Value is the value of a messages change. It carries statuses of sent
// messages, or inbound messages, or errors not tied to a message.
type Value struct {
	MessagingProduct string           `json:"messaging_product"`
	Metadata         Metadata         `json:"metadata"`
	Statuses         []MessageStatus  `json:"statuses,omitempty"`
	Messages         []InboundMessage `json:"messages,omitempty"`
	Errors           []WebhookError   `json:"errors,omitempty"`
}

// Metadata identifies the business phone number a change concerns.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// MessageStatus is a status webhook for a message the business sent.
type MessageStatus struct {
	ID     string `json:"id"`     // the wamid returned by the send
	Status string `json:"status"` // sent, delivered, read, failed or played
	// Timestamp is the time of the status as a string of Unix seconds.
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	// BizOpaqueCallbackData is what the send put in
	// biz_opaque_callback_data; it may be absent, notably on failed.
	BizOpaqueCallbackData string         `json:"biz_opaque_callback_data,omitempty"`
	Pricing               *Pricing       `json:"pricing,omitempty"`
	Errors                []WebhookError `json:"errors,omitempty"`
}

// Pricing is how a sent message is billed.
type Pricing struct {
	PricingModel string `json:"pricing_model,omitempty"` // PMP (CBP before July 2025)
	Type         string `json:"type,omitempty"`          // regular, free_customer_service, free_entry_point
	Category     string `json:"category,omitempty"`      // marketing, utility, authentication, service, ...
}

// WebhookError is an error as webhooks report it.
type WebhookError struct {
	Code      int    `json:"code"`
	Title     string `json:"title,omitempty"`
	Message   string `json:"message,omitempty"`
	ErrorData struct {
		Details string `json:"details,omitempty"`
	} `json:"error_data"`
	Href string `json:"href,omitempty"`
}

// Reason returns Meta's details, or failing that its message or title.
func (e WebhookError) Reason() string {
	switch {
	case e.ErrorData.Details != "":
		return e.ErrorData.Details
	case e.Message != "":
		return e.Message
	}
	return e.Title
}

// InboundMessage is a message a WhatsApp user sent to the business.
type InboundMessage struct {
	ID        string `json:"id"`
	From      string `json:"from"`      // the user's WhatsApp ID (phone number without "+")
	Timestamp string `json:"timestamp"` // Unix seconds, as a string
	Type      string `json:"type"`      // text, button, interactive, image, ...
	Text      *struct {
		Body string `json:"body"`
	} `json:"text,omitempty"`
}

// ParseNotification decodes a webhook body. It rejects bodies that are not
// JSON or whose object is not "whatsapp_business_account"; every error wraps
// ErrMalformedNotification.
func ParseNotification(body []byte) (*Notification, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedNotification)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("%w: body is not JSON", ErrMalformedNotification)
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("%w: unexpected shape: %v", ErrMalformedNotification, err)
	}
	if n.Object != ObjectWhatsAppBusinessAccount {
		return nil, fmt.Errorf("%w: object is %q, want %q", ErrMalformedNotification, n.Object, ObjectWhatsAppBusinessAccount)
	}
	return &n, nil
}

// StatusEvent is one message status from a notification, in Switchback's
// terms.
type StatusEvent struct {
	Update channels.StatusUpdate
	// Correlation is decoded from biz_opaque_callback_data when
	// HasCorrelation is true.
	Correlation    channels.Correlation
	HasCorrelation bool
	RecipientID    string
}

// StatusEvents returns the statuses in n, in order. Meta's "played" (a
// voice message was played) counts as read. Statuses with a status string
// Switchback does not know, or without a message ID, are skipped. A
// timestamp that is not a number of Unix seconds is reported as 0.
func (n *Notification) StatusEvents() []StatusEvent {
	var events []StatusEvent
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != FieldMessages {
				continue
			}
			for _, s := range c.Value.Statuses {
				if ev, ok := statusEvent(s); ok {
					events = append(events, ev)
				}
			}
		}
	}
	return events
}

func statusEvent(s MessageStatus) (StatusEvent, bool) {
	status, ok := mapStatus(s.Status)
	if !ok || s.ID == "" {
		return StatusEvent{}, false
	}
	ev := StatusEvent{
		Update: channels.StatusUpdate{
			Provider:  Provider,
			MessageID: s.ID,
			Status:    status,
		},
		RecipientID: s.RecipientID,
	}
	if ts, err := strconv.ParseInt(s.Timestamp, 10, 64); err == nil {
		ev.Update.Timestamp = ts
	}
	if len(s.Errors) > 0 {
		ev.Update.ErrorCode = strconv.Itoa(s.Errors[0].Code)
		ev.Update.ErrorReason = s.Errors[0].Reason()
	}
	if s.Pricing != nil {
		ev.Update.PricingCategory = s.Pricing.Category
	}
	if corr, ok := channels.ParseCorrelation(s.BizOpaqueCallbackData); ok {
		ev.Correlation, ev.HasCorrelation = corr, true
		ev.Update.Attempt = corr.Attempt
	}
	return ev, true
}

// mapStatus maps Meta's status strings to Switchback's.
func mapStatus(s string) (channels.Status, bool) {
	switch s {
	case "sent":
		return channels.StatusSent, true
	case "delivered":
		return channels.StatusDelivered, true
	case "read", "played":
		return channels.StatusRead, true
	case "failed":
		return channels.StatusFailed, true
	}
	return "", false
}

// FieldTemplateStatus is the webhook field that reports template reviews,
// pauses and disables.
const FieldTemplateStatus = "message_template_status_update"

// TemplateStatusUpdate is one message_template_status_update change.
type TemplateStatusUpdate struct {
	// WABAID is the WhatsApp Business Account the template belongs to.
	WABAID string `json:"-"`
	// Event is the template's new status: APPROVED, REJECTED, PAUSED,
	// DISABLED, PENDING_DELETION, FLAGGED, REINSTATED, ...
	Event      string `json:"event"`
	TemplateID int64  `json:"message_template_id"`
	Name       string `json:"message_template_name"`
	// Language is as the webhook writes it (en-US), not as the API does
	// (en_US); compare them with the separator normalised.
	Language string `json:"message_template_language"`
	Category string `json:"message_template_category"`
	// Reason is why, e.g. INVALID_FORMAT; "" when Meta sends null.
	Reason        string `json:"reason"`
	RejectionInfo *struct {
		Reason         string `json:"reason"`
		Recommendation string `json:"recommendation"`
	} `json:"rejection_info,omitempty"`
}

// TemplateStatusUpdates returns the template status changes in n, in
// order. A change whose value does not decode is an error wrapping
// ErrMalformedNotification.
func (n *Notification) TemplateStatusUpdates() ([]TemplateStatusUpdate, error) {
	var out []TemplateStatusUpdate
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != FieldTemplateStatus {
				continue
			}
			var u TemplateStatusUpdate
			if err := json.Unmarshal(c.RawValue, &u); err != nil {
				return nil, fmt.Errorf("%w: %s value: %v", ErrMalformedNotification, FieldTemplateStatus, err)
			}
			if u.Name == "" || u.Event == "" {
				return nil, fmt.Errorf("%w: %s without a template name or event", ErrMalformedNotification, FieldTemplateStatus)
			}
			u.WABAID = e.ID
			out = append(out, u)
		}
	}
	return out, nil
}

// FieldNumberQuality is the webhook field that reports the business
// number's messaging-limit tier and quality events.
const FieldNumberQuality = "phone_number_quality_update"

// Number quality events (NumberQualityUpdate.Event).
const (
	NumberFlagged   = "FLAGGED"
	NumberUnflagged = "UNFLAGGED"
	NumberDowngrade = "DOWNGRADE"
	NumberUpgrade   = "UPGRADE"
)

// NumberQualityUpdate is one phone_number_quality_update change.
type NumberQualityUpdate struct {
	// WABAID is the WhatsApp Business Account of the number.
	WABAID string `json:"-"`
	// DisplayPhoneNumber is the business's own number, as Meta shows it.
	DisplayPhoneNumber string `json:"display_phone_number"`
	// Event is FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE, ONBOARDING or
	// THROUGHPUT_UPGRADE.
	Event string `json:"event"`
	// CurrentLimit is the tier in force, e.g. TIER_250, TIER_2K,
	// TIER_UNLIMITED; OldLimit the one before a change of limit.
	CurrentLimit string `json:"current_limit"`
	OldLimit     string `json:"old_limit,omitempty"`
	// MaxDailyConversations replaces CurrentLimit in newer payloads
	// (max_daily_conversations_per_business), in the same TIER_ form or
	// as a number.
	MaxDailyConversations json.RawMessage `json:"max_daily_conversations_per_business,omitempty"`
}

// Tier returns the tier the update reports: CurrentLimit, or else
// max_daily_conversations_per_business (a TIER_ string, or a number);
// empty when neither says.
func (u NumberQualityUpdate) Tier() string {
	if u.CurrentLimit != "" {
		return u.CurrentLimit
	}
	var s string
	if json.Unmarshal(u.MaxDailyConversations, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(u.MaxDailyConversations, &n) == nil {
		return n.String()
	}
	return ""
}

// NumberQualityUpdates returns the phone_number_quality_update changes in
// n, in order. A change whose value does not decode, or has no event, is
// an error wrapping ErrMalformedNotification.
func (n *Notification) NumberQualityUpdates() ([]NumberQualityUpdate, error) {
	var out []NumberQualityUpdate
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != FieldNumberQuality {
				continue
			}
			var u NumberQualityUpdate
			if err := json.Unmarshal(c.RawValue, &u); err != nil {
				return nil, fmt.Errorf("%w: %s value: %v", ErrMalformedNotification, FieldNumberQuality, err)
			}
			if u.Event == "" {
				return nil, fmt.Errorf("%w: %s without an event", ErrMalformedNotification, FieldNumberQuality)
			}
			u.WABAID = e.ID
			out = append(out, u)
		}
	}
	return out, nil
}
