package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// waitStep waits a duration, or until an event or its timeout.
func (r *run) waitStep(ctx workflow.Context, id string, w *journeys.WaitStep) error {
	r.flush(ctx)
	now := workflow.Now(ctx)
	if w.Until == "" {
		r.record(ctx, Event{Kind: EventWait, Step: id, Reason: "waiting " + w.Duration.String()})
		_, err := r.waitFor(ctx, waitSpec{until: now.Add(time.Duration(w.Duration))})
		return err
	}
	r.record(ctx, Event{Kind: EventWait, Step: id, Reason: fmt.Sprintf("waiting for %s, at most %s", w.Until, w.Timeout)})
	got, err := r.waitFor(ctx, waitSpec{until: now.Add(time.Duration(w.Timeout)), cond: r.untilCond(ctx, w.Until)})
	if err != nil {
		return err
	}
	if got == waitCond {
		r.events.taken[w.Until] = r.events.counts[w.Until]
		r.record(ctx, Event{Kind: EventWait, Step: id, Name: w.Until, Reason: w.Until + " received"})
		return nil
	}
	if w.OnTimeout == "exit" {
		return &ending{outcome: OutcomeCompleted, reason: fmt.Sprintf("no %s within %s", w.Until, w.Timeout)}
	}
	r.record(ctx, Event{Kind: EventWait, Step: id, Reason: fmt.Sprintf("no %s within %s: going on", w.Until, w.Timeout), ReasonClass: store.ClassTimeout})
	return nil
}

// nextEventChange versions what a wait until an event waits for when an
// earlier wait step took that event: the next one, not the one already
// taken (a menu's choice after the message that asked for the menu).
// Before it, such a wait ended at once.
const nextEventChange = "wait-next-event"

// untilCond returns the condition of a wait until event: an event of that
// name received so far, or, when an earlier wait took one, one received
// since.
func (r *run) untilCond(ctx workflow.Context, event string) func() bool {
	taken := r.events.taken[event]
	if taken > 0 && r.changed(ctx, nextEventChange) {
		return func() bool { return r.events.counts[event] > taken }
	}
	return func() bool { return r.events.seen[event] }
}

// waitSpec says what waitFor waits for.
type waitSpec struct {
	fut   workflow.Future // an activity, or nil
	until time.Time       // a timer, or zero; capped at the journey's expire
	cond  func() bool     // a state the journey's signals and updates may bring about, or nil
}

// waitResult is why waitFor returned.
type waitResult int

const (
	waitFuture waitResult = iota
	waitTimeout
	waitCond
)

// waitFor waits until the future is ready, the time comes, or cond holds,
// handling status signals, events and updates meanwhile. It returns an
// *ending when the journey must end: a goal event, a verified code, or the
// journey's expire.
func (r *run) waitFor(ctx workflow.Context, w waitSpec) (waitResult, error) {
	if r.end != nil {
		return 0, r.end
	}
	if w.cond != nil && w.cond() {
		return waitCond, nil
	}
	until, expiring := w.until, false
	if d := r.exec.deadline; !d.IsZero() && (until.IsZero() || !d.After(until)) && w.fut == nil {
		until, expiring = d, true
	}
	var timer workflow.Future
	if !until.IsZero() {
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		defer cancelTimer()
		timer = workflow.NewTimer(timerCtx, until.Sub(workflow.Now(ctx)))
	}
	for {
		fired, timerErr := r.selectOnce(ctx, w.fut, timer)
		switch {
		case fired && timerErr != nil:
			return 0, timerErr
		case fired && expiring:
			return 0, errExpired()
		case fired:
			return waitTimeout, nil
		case r.end != nil:
			return 0, r.end
		case w.fut != nil && w.fut.IsReady():
			return waitFuture, nil
		case w.cond != nil && w.cond():
			return waitCond, nil
		}
	}
}

// selectOnce waits for one thing: the future, the timer (either may be
// nil), a status signal, an event, or a wake-up. It reports whether the
// timer fired, and its error.
func (r *run) selectOnce(ctx workflow.Context, fut, timer workflow.Future) (fired bool, timerErr error) {
	sel := workflow.NewSelector(ctx)
	if fut != nil {
		sel.AddFuture(fut, func(workflow.Future) {})
	}
	if timer != nil {
		sel.AddFuture(timer, func(f workflow.Future) { fired, timerErr = true, f.Get(ctx, nil) })
	}
	r.addReceives(ctx, sel)
	sel.Select(ctx)
	if !r.exec.fewerWrites {
		r.flush(ctx)
	}
	return fired, timerErr
}

// addReceives makes sel take the next status signal, event, or wake-up.
func (r *run) addReceives(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(r.inbox.statuses, func(c workflow.ReceiveChannel, _ bool) {
		var u channels.StatusUpdate
		c.Receive(ctx, &u)
		r.receive(ctx, u)
	})
	sel.AddReceive(r.inbox.events, func(c workflow.ReceiveChannel, _ bool) {
		var ev journeys.EventInput
		c.Receive(ctx, &ev)
		r.receiveEvent(ctx, ev)
	})
	sel.AddReceive(r.inbox.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
}

// holdForQuietHours holds a marketing send until the journey's quiet hours
// end, in the recipient's time zone when known. Other purposes never wait.
func (r *run) holdForQuietHours(ctx workflow.Context, ev Event) error {
	q := r.in.Journey.QuietHours
	if q == nil || r.in.Journey.Purpose != journeys.Marketing {
		return nil
	}
	zone := q.TimeZone
	if r.in.TimeZone != "" {
		zone = r.in.TimeZone
	}
	resume, ok := quietUntil(workflow.Now(ctx), q, zone)
	if !ok {
		return nil
	}
	r.record(ctx, withReason(ev, EventWait, why{store.ClassQuietHours, fmt.Sprintf("quiet hours in %s: held until %s", zone, resume.Format(time.RFC3339))}))
	_, err := r.waitFor(ctx, waitSpec{until: resume})
	return err
}

// quietUntil reports whether now falls in the quiet hours in zone, and
// when they end.
func quietUntil(now time.Time, q *journeys.QuietHours, zone string) (time.Time, bool) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	start, err1 := journeys.ParseClock(q.Start)
	end, err2 := journeys.ParseClock(q.End)
	if err1 != nil || err2 != nil || start == end {
		return time.Time{}, false
	}
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	at := local.Sub(midnight)
	switch {
	case start < end && at >= start && at < end: // e.g. 12:00-14:00
		return midnight.Add(end), true
	case start > end && at >= start: // e.g. 21:00-08:00, evening
		return midnight.AddDate(0, 0, 1).Add(end), true
	case start > end && at < end: // e.g. 21:00-08:00, early morning
		return midnight.Add(end), true
	}
	return time.Time{}, false
}
