package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// sentMessage is what the journey knows of a message it sent.
type sentMessage struct {
	attempt  int
	step     string
	channel  channels.Channel
	template string
	provider string
	id       string
}

func messageKey(provider, id string) string { return provider + "/" + id }

// awaitResult is how waiting for a status ended.
type awaitResult int

const (
	awaitReached awaitResult = iota
	awaitFailed
	awaitTimedOut
)

// await waits until the message reaches want, fails, or limit passes.
func (r *run) await(ctx workflow.Context, key string, want channels.Status, limit time.Time) (awaitResult, error) {
	check := func() (awaitResult, bool) {
		switch s := r.sends.statuses[key]; {
		case s.Reached(want):
			return awaitReached, true
		case s == channels.StatusFailed:
			return awaitFailed, true
		}
		return 0, false
	}
	if res, ok := check(); ok {
		return res, nil
	}
	got, err := r.waitFor(ctx, waitSpec{until: limit, cond: func() bool { _, ok := check(); return ok }})
	if err != nil {
		return 0, err
	}
	if got == waitTimeout {
		return awaitTimedOut, nil
	}
	res, _ := check()
	return res, nil
}

// adoptByAttempt waits until limit for a status that names attempt n but a
// message the journey does not know (its send's outcome was unknown), and
// returns that message's key, or "" when none came.
func (r *run) adoptByAttempt(ctx workflow.Context, n int, step string, ch channels.Channel, limit time.Time) (string, error) {
	r.sends.unknown = unknownSend{attempt: n, step: step, channel: ch}
	defer func() { r.sends.unknown.attempt = 0 }()
	got, err := r.waitFor(ctx, waitSpec{until: limit, cond: func() bool { return r.keyOfAttempt(n) != "" }})
	if err != nil || got != waitCond {
		return "", err
	}
	return r.keyOfAttempt(n), nil
}

// keyOfAttempt returns the key of the message attempt n sent, or "".
func (r *run) keyOfAttempt(n int) string { return r.sends.byAttempt[n] }

// remember records the message an attempt sent. Statuses of it that came
// before its send returned (held) now name its attempt, step and channel,
// in the timeline and in the events not yet written to the event log. It
// changes no command: the timeline is the query's, the events go in the
// next batch.
func (r *run) remember(key string, m sentMessage) {
	r.sends.sent[key] = m
	r.sends.byAttempt[m.attempt] = key
	for i := range r.timeline.Events {
		ev := &r.timeline.Events[i]
		if ev.Kind == EventStatus && ev.Channel == "" && messageKey(ev.Provider, ev.MessageID) == key {
			ev.Attempt, ev.Step, ev.Channel = m.attempt, m.step, m.channel
		}
	}
	for i := range r.unrecorded {
		e := &r.unrecorded[i].Event
		if e.Channel == "" && messageKey(e.Provider, e.MessageID) == key {
			e.Attempt, e.Step, e.Channel, e.Template = m.attempt, m.step, m.channel, m.template
		}
	}
}

// receive takes one status update. Duplicates and statuses that would move
// a message backwards are dropped; a status for a message whose send has not
// returned yet is held until it does; a late status for an earlier attempt
// is recorded but never re-sends.
func (r *run) receive(ctx workflow.Context, u channels.StatusUpdate) {
	u = r.nameMessage(u)
	if !u.Status.Valid() || u.MessageID == "" {
		r.record(ctx, Event{Kind: EventStatus, Provider: u.Provider, MessageID: u.MessageID, Status: u.Status,
			Reason: "ignored: not a status update Switchback knows", ReasonClass: store.ClassIgnored})
		return
	}
	key := messageKey(u.Provider, u.MessageID)
	if !r.advance(key, u.Status) {
		return
	}
	ev := Event{Kind: EventStatus, Provider: u.Provider, MessageID: u.MessageID, Status: u.Status,
		Code: u.ErrorCode, Reason: u.ErrorReason, ReasonClass: statusClass(u.Status), Attempt: u.Attempt}
	m, known := r.messageOf(key, u)
	if known {
		ev.Attempt, ev.Channel, ev.Step = m.attempt, m.channel, m.step
	}
	switch {
	case !known:
		ev.Reason, ev.ReasonClass = joinReason(ev.Reason, "held until the send returns"), store.ClassHeld
	case key != r.sends.current:
		ev.Reason, ev.ReasonClass = joinReason(ev.Reason, "late: for an earlier attempt, nothing is re-sent"), store.ClassLate
	}
	r.record(ctx, ev)
	noted := ev
	noted.Time, noted.Reason, noted.ReasonClass = workflow.Now(ctx).UTC(), u.ErrorReason, statusClass(u.Status)
	r.notePriced(noted, store.EventStatus(u.Status), m.template, u.PricingCategory)
}

// nameMessage fills in the message of a status that names the attempt but
// not the message (an email bounced before it was numbered): the
// attempt's message it is.
func (r *run) nameMessage(u channels.StatusUpdate) channels.StatusUpdate {
	if u.MessageID == "" && u.Attempt > 0 {
		if key := r.keyOfAttempt(u.Attempt); key != "" {
			u.Provider, u.MessageID = r.sends.sent[key].provider, r.sends.sent[key].id
		}
	}
	return u
}

// messageOf returns the message a status is about, if the journey knows
// it. The first status naming the attempt whose send's outcome is unknown
// adopts its message.
func (r *run) messageOf(key string, u channels.StatusUpdate) (sentMessage, bool) {
	if m, ok := r.sends.sent[key]; ok {
		return m, true
	}
	un := r.sends.unknown
	if un.attempt == 0 || u.Attempt != un.attempt {
		return sentMessage{}, false
	}
	m := sentMessage{attempt: u.Attempt, step: un.step, channel: un.channel, provider: u.Provider, id: u.MessageID}
	r.remember(key, m)
	r.sends.current = key
	return m, true
}

// advance moves the message to status s if that is progress, and reports
// whether it was.
func (r *run) advance(key string, s channels.Status) bool {
	if !r.sends.statuses[key].Advances(s) {
		return false
	}
	r.sends.statuses[key] = s
	return true
}

// statusClass is the reason class of a status: ClassFailedStatus for a
// failure, else none.
func statusClass(s channels.Status) store.ReasonClass {
	if s == channels.StatusFailed {
		return store.ClassFailedStatus
	}
	return ""
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
