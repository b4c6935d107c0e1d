package workflows

import (
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// Outcome is how a journey ended, or "running".
type Outcome string

// Journey outcomes, also the values of the SwitchbackOutcome search attribute.
const (
	OutcomeRunning Outcome = "running"
	// OutcomeDelivered: an attempt reached the status it awaited.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeFailed: every attempt failed, was refused or timed out.
	OutcomeFailed Outcome = "failed"
	// OutcomeExpired: the journey's expire passed first.
	OutcomeExpired Outcome = "expired"
	// OutcomeCanceled: the journey was cancelled.
	OutcomeCanceled Outcome = "canceled"
)

// EventKind names a timeline entry.
type EventKind string

// Timeline entry kinds.
const (
	EventStarted    EventKind = "started"     // the journey started
	EventAttempt    EventKind = "attempt"     // an attempt began on a channel
	EventSent       EventKind = "sent"        // the provider accepted the message
	EventSendFailed EventKind = "send_failed" // the provider refused it, or could not be reached in time
	EventStatus     EventKind = "status"      // a delivery status arrived
	EventFallback   EventKind = "fallback"    // the attempt gave up; the next one starts
	EventDone       EventKind = "done"        // the journey ended
)

// Event is one entry of a journey's timeline.
type Event struct {
	Time      time.Time        `json:"time"`
	Kind      EventKind        `json:"kind"`
	Step      string           `json:"step,omitempty"`
	Attempt   int              `json:"attempt,omitempty"`
	Channel   channels.Channel `json:"channel,omitempty"`
	Provider  string           `json:"provider,omitempty"`
	MessageID string           `json:"message_id,omitempty"`
	Status    channels.Status  `json:"status,omitempty"`
	Code      string           `json:"code,omitempty"`
	// Reason says why, in words: why an attempt fell back, why a send failed,
	// why a status was not taken.
	Reason string `json:"reason,omitempty"`
}

// Timeline is what the timeline query returns: the journey's story so far.
type Timeline struct {
	Journey string  `json:"journey"`
	Outcome Outcome `json:"outcome"`
	Events  []Event `json:"events"`
}

// Result is what a finished journey returns.
type Result struct {
	Outcome   Outcome          `json:"outcome"`
	Channel   channels.Channel `json:"channel,omitempty"`
	MessageID string           `json:"message_id,omitempty"`
	Status    channels.Status  `json:"status,omitempty"`
}
