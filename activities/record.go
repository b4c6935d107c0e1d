package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// RecordEventName is the registered name of the event-recording activity.
const RecordEventName = "RecordEvent"

// EventRequest asks to record one message event.
type EventRequest struct {
	// To is the journey's recipient number: the event is recorded under
	// its contact key unless Event.ContactKey is set.
	To    string             `json:"to,omitempty"`
	Event store.MessageEvent `json:"event"`
}

// RecordEvent appends an event to the message event log: a status the
// journey received, a skipped attempt, a failed send, a fallback, a
// conversion. The send activity records the accepted event itself. An
// event without a provider message id is recorded under
// store.LocalProvider and store.LocalMessageID; one without a time at the
// activity's clock. A repeated event (a retried activity, a duplicated
// status) is recorded once, and counted once in a.Metrics.
//
// A new delivered or read status marks the channel reachable; a failure
// whose code says the contact cannot be reached there (WhatsApp 131026,
// Twilio 21211, 21614, 30005, 30006, an email bounce) marks it
// unreachable, and Twilio's 21211 (invalid number) also suppresses SMS.
func (a *Activities) RecordEvent(ctx context.Context, req EventRequest) error {
	if a.Messages == nil {
		return errors.New("record event: the worker has no store")
	}
	e := req.Event
	if e.ContactKey == "" && req.To != "" {
		e.ContactKey = a.contactKey(req.To)
	}
	if e.MessageID == "" {
		e.Provider, e.MessageID = store.LocalProvider, store.LocalMessageID(e.WorkflowID, e.Attempt)
	}
	if e.At.IsZero() {
		e.At = a.now()
	}
	added, err := a.Messages.RecordEvent(ctx, e)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if !added {
		return nil
	}
	a.Metrics.count(e)
	if err := a.noteOutcome(ctx, e); err != nil {
		return fmt.Errorf("record %s event of %s: %w", e.Status, e.MessageID, err)
	}
	return nil
}

// noteOutcome updates what the store knows of the contact's channel from
// a new event.
func (a *Activities) noteOutcome(ctx context.Context, e store.MessageEvent) error {
	if e.ContactKey == "" || e.Channel == "" {
		return nil
	}
	r := store.Reachability{ContactKey: e.ContactKey, Channel: e.Channel, At: e.At}
	switch {
	case e.Status == store.EventDelivered || e.Status == store.EventRead:
		r.Reachable = true
	case e.Status == store.EventFailed && a.unreachable(e.Channel, e.ErrorCode):
		r.Code, r.Reason = e.ErrorCode, e.ErrorReason
	default:
		return nil
	}
	if err := a.Messages.SetReachability(ctx, r); err != nil {
		return err
	}
	if a.Channels.Suppresses(e.Channel, e.ErrorCode) {
		return a.Messages.Suppress(ctx, store.Suppression{ContactKey: e.ContactKey, Channel: e.Channel,
			Reason: store.ReasonInvalidNumber, Source: e.Provider + " " + e.ErrorCode, At: e.At})
	}
	return nil
}

// unreachable reports whether a failure code says the contact cannot be
// reached on the channel at all, rather than that one message failed: the
// channel's driver decides.
func (a *Activities) unreachable(ch channels.Channel, code string) bool {
	return a.Channels != nil && a.Channels.Unreachable(ch, code)
}

// recordAccepted records that the provider accepted the message ref
// names, and counts the send if the event is new. It is part of the send:
// a failure is logged, never returned, because the provider already has
// the message.
func (a *Activities) recordAccepted(ctx context.Context, ref store.MessageRef) {
	e := StatusEvent(ref, store.EventAccepted, a.now())
	added, err := a.Messages.RecordEvent(ctx, e)
	if err != nil {
		a.logger().ErrorContext(ctx, "record accepted event", "provider", ref.Provider, "message_id", ref.MessageID, "error", err)
		return
	}
	if added {
		a.Metrics.count(e)
	}
}

// StatusEvent is the event of the message ref names reaching status at
// at, as the event log keeps it.
func StatusEvent(ref store.MessageRef, status store.EventStatus, at time.Time) store.MessageEvent {
	return store.MessageEvent{
		Provider: ref.Provider, MessageID: ref.MessageID, Status: status,
		Journey: ref.Journey, WorkflowID: ref.WorkflowID, Step: ref.Step, Attempt: ref.Attempt,
		Channel: ref.Channel, Template: ref.Template, ContactKey: ref.ContactKey, At: at,
	}
}

// contactOf is the number that keys the events of req's message: the
// message's own on a phone channel, the journey's on a channel whose
// address is neither a number nor an email; none on email, whose events
// are keyed by the address itself.
func (a *Activities) contactOf(req SendRequest) string {
	msg := req.Message
	d, ok := a.Channels.Lookup(msg.Channel)
	switch {
	case !ok || d.Address() == channels.AddressPhone:
		return msg.To
	case d.Address() == channels.AddressEmail:
		return ""
	}
	return req.Contact
}

// RecordEventsName is the registered name of the batch event-recording
// activity.
const RecordEventsName = "RecordEvents"

// RecordEvents records events in order, as RecordEvent does each: the
// journey batches what it learnt between two decisions into one call.
func (a *Activities) RecordEvents(ctx context.Context, reqs []EventRequest) error {
	for _, req := range reqs {
		if err := a.RecordEvent(ctx, req); err != nil {
			return err
		}
	}
	return nil
}
