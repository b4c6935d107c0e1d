package journeys

import (
	"slices"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// Outcome is how a journey ended, or "running".
type Outcome string

// Journey outcomes, also the values of the SwitchbackOutcome search attribute.
const (
	OutcomeRunning Outcome = "running"
	// OutcomeDelivered: the journey's last send reached the status it awaited.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeCompleted: the journey ran to its end or to an exit step.
	OutcomeCompleted Outcome = "completed"
	// OutcomeConverted: a goal event arrived.
	OutcomeConverted Outcome = "converted"
	// OutcomeVerified: the customer's code was checked and right.
	OutcomeVerified Outcome = "verified"
	// OutcomeBlocked: every attempt of a send step was skipped (suppressed,
	// no consent, window closed, no address).
	OutcomeBlocked Outcome = "blocked"
	// OutcomeLocked: too many wrong codes were checked.
	OutcomeLocked Outcome = "locked"
	// OutcomeFailed: every attempt failed, was refused or timed out.
	OutcomeFailed Outcome = "failed"
	// OutcomeExpired: the journey's expire passed first.
	OutcomeExpired Outcome = "expired"
	// OutcomeCanceled: the journey was canceled.
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
	EventSkipped    EventKind = "skipped"     // an attempt was not made, and why
	EventDeferred   EventKind = "deferred"    // an attempt goes after the step's others: its channel did not reach the contact last time
	EventReceived   EventKind = "event"       // an event from the backend or the customer arrived
	EventWait       EventKind = "wait"        // a wait step began or ended
	EventBranch     EventKind = "branch"      // a branch step chose its way
	EventVerify     EventKind = "verify"      // a code was checked
	EventDone       EventKind = "done"        // the journey ended
)

// Event is one entry of a journey's timeline.
type Event struct {
	Time time.Time `json:"time"`
	Kind EventKind `json:"kind"`
	Step string    `json:"step,omitempty"`
	// Name is the name of an event received.
	Name      string           `json:"name,omitempty"`
	Attempt   int              `json:"attempt,omitempty"`
	Channel   channels.Channel `json:"channel,omitempty"`
	Provider  string           `json:"provider,omitempty"`
	MessageID string           `json:"message_id,omitempty"`
	Status    channels.Status  `json:"status,omitempty"`
	Code      string           `json:"code,omitempty"`
	// Reason says why, in words: why an attempt fell back, why a send failed,
	// why a status was not taken.
	Reason string `json:"reason,omitempty"`
	// ReasonClass is Reason's class, for programs: set on every event
	// whose reason is a decision (skipped, deferred, send_failed, fallback,
	// a status or event not taken as it came, an attempt that sends its
	// template instead, a wait that timed out or holds for quiet hours);
	// empty where the reason only describes (started, sent, branch,
	// verify, done).
	ReasonClass store.ReasonClass `json:"reason_class,omitempty"`
}

// Label names the entry as the timeline's readers show it: "status
// delivered", "event shipped", or its kind.
func (e Event) Label() string {
	switch e.Kind {
	case EventStatus:
		return "status " + string(e.Status)
	case EventReceived:
		return "event " + e.Name
	}
	return string(e.Kind)
}

// Timeline is what the timeline query returns: the journey's story so far.
type Timeline struct {
	Journey string  `json:"journey"`
	Outcome Outcome `json:"outcome"`
	// Awaiting says what a running journey waits for from outside, e.g.
	// "verification until 2026-11-25T20:40:00Z".
	Awaiting string `json:"awaiting,omitempty"`
	// Delivery is the latest message that reached its awaited status.
	Delivery *Result `json:"delivery,omitempty"`
	Events   []Event `json:"events"`
}

// Result is what a finished journey returns.
type Result struct {
	Outcome   Outcome          `json:"outcome"`
	Channel   channels.Channel `json:"channel,omitempty"`
	MessageID string           `json:"message_id,omitempty"`
	Status    channels.Status  `json:"status,omitempty"`
}

// RecordedReason is the Reason of a status that AddRecorded adds.
const RecordedReason = "recorded by the webhook: the journey did not wait for it"

// AddRecorded adds to the timeline the delivery statuses of its messages
// that the message event log holds but the journey never received: those
// the webhooks recorded instead of signalling (sent before the awaited
// status, read after it, any after the journey ended). Each goes after the
// entries up to its time, with RecordedReason; the journey's own entries
// keep their order.
func (t *Timeline) AddRecorded(evs []store.MessageEvent) {
	seen := map[string]bool{}
	for _, e := range t.Events {
		if e.Kind == EventStatus {
			seen[e.Provider+"/"+e.MessageID+"/"+string(e.Status)] = true
		}
	}
	for _, e := range evs {
		st := channels.Status(e.Status)
		if e.Provider == store.LocalProvider || st == channels.StatusAccepted || !st.Valid() || seen[e.Provider+"/"+e.MessageID+"/"+string(st)] {
			continue
		}
		ev := Event{Time: e.At, Kind: EventStatus, Step: e.Step, Attempt: e.Attempt, Channel: e.Channel,
			Provider: e.Provider, MessageID: e.MessageID, Status: st, Code: e.ErrorCode, Reason: RecordedReason}
		i := len(t.Events)
		for i > 0 && t.Events[i-1].Time.After(e.At) {
			i--
		}
		t.Events = slices.Insert(t.Events, i, ev)
	}
}
