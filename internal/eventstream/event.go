package eventstream

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// Event is the JSON body of one event-stream request. The README's "Event
// stream" section gives its schema; change both together.
type Event struct {
	// ID identifies the event: the same on every retry, and the request's
	// webhook-id header. Receivers de-duplicate on it.
	ID string `json:"id"`
	// Type says what happened (the Type constants).
	Type Type `json:"type"`
	// Timestamp is when it happened.
	Timestamp time.Time `json:"timestamp"`
	// Data describes the message and the journey.
	Data Data `json:"data"`
}

// Data is what an event says about a message. It never holds a phone
// number, an email address, a code or a message's text: the contact is
// its keyed hash, and a failure is its class and provider code, not the
// provider's prose (which may quote the number).
type Data struct {
	Journey         string `json:"journey,omitempty"`
	WorkflowID      string `json:"workflow_id,omitempty"`
	Step            string `json:"step,omitempty"`
	Attempt         int    `json:"attempt,omitempty"`
	Channel         string `json:"channel,omitempty"`
	Provider        string `json:"provider"`
	MessageID       string `json:"message_id"`
	Status          string `json:"status"`
	ReasonClass     string `json:"reason_class,omitempty"`
	ErrorCode       string `json:"error_code,omitempty"`
	Template        string `json:"template,omitempty"`
	PricingCategory string `json:"pricing_category,omitempty"`
	ContactKey      string `json:"contact_key,omitempty"`
}

// Type is an event's type.
type Type string

// Event types, by the status of the message event.
const (
	// TypeAccepted: a provider accepted an attempt's message.
	TypeAccepted Type = "message.accepted"
	// TypeStatus: a delivery status (sent, delivered, read, failed).
	TypeStatus Type = "message.status"
	// TypeFallback: an attempt gave up and the next one starts.
	TypeFallback Type = "message.fallback"
	// TypeSkipped: eligibility refused an attempt.
	TypeSkipped Type = "message.skipped"
	// TypeReply: the customer wrote back while the journey ran.
	TypeReply Type = "message.reply"
	// TypeConverted: the journey's goal event arrived.
	TypeConverted Type = "journey.converted"
	// TypeBroadcastPaused: a broadcast of the journey paused itself
	// (data.workflow_id is the broadcast's id).
	TypeBroadcastPaused Type = "broadcast.paused"
)

// TypeOf returns the type of an event of status s; a status this version
// does not know gives "message." and the status.
func TypeOf(s store.EventStatus) Type {
	switch s {
	case store.EventAccepted:
		return TypeAccepted
	case store.EventSent, store.EventDelivered, store.EventRead, store.EventFailed:
		return TypeStatus
	case store.EventFallback:
		return TypeFallback
	case store.EventSkipped:
		return TypeSkipped
	case store.EventReply:
		return TypeReply
	case store.EventConverted:
		return TypeConverted
	case store.EventBroadcastPaused:
		return TypeBroadcastPaused
	}
	return Type("message." + string(s))
}

// EventID returns the id of e: a hash of the key the event log
// de-duplicates on (provider, message id, status), so the same event has
// the same id wherever it is recorded.
func EventID(e store.MessageEvent) string {
	h := sha256.New()
	for _, part := range []string{e.Provider, e.MessageID, string(e.Status)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// NewEvent returns the event-stream form of e.
func NewEvent(e store.MessageEvent) Event {
	return Event{
		ID:        EventID(e),
		Type:      TypeOf(e.Status),
		Timestamp: e.At.UTC(),
		Data: Data{
			Journey:         e.Journey,
			WorkflowID:      e.WorkflowID,
			Step:            e.Step,
			Attempt:         e.Attempt,
			Channel:         string(e.Channel),
			Provider:        e.Provider,
			MessageID:       e.MessageID,
			Status:          string(e.Status),
			ReasonClass:     string(e.ReasonClass),
			ErrorCode:       e.ErrorCode,
			Template:        e.Template,
			PricingCategory: e.PricingCategory,
			ContactKey:      e.ContactKey,
		},
	}
}
