package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// sendTimeout bounds one call to a provider; the attempt's within bounds
// all its retries together.
const sendTimeout = 15 * time.Second

// sendRetry is the retry policy of a send that failed in a retryable way
// (rate limit, provider 5xx, network).
var sendRetry = temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    10 * time.Second,
}

// windowClosedTemplate starts the timeline reason of a session attempt
// that sends its template because the 24-hour window is closed.
const windowClosedTemplate = "24-hour window closed, template sent instead"

// awaitResult is how waiting for a status ended.
type awaitResult int

const (
	awaitReached awaitResult = iota
	awaitFailed
	awaitTimedOut
)

// sendStep runs one send step: each attempt in order until one reaches its
// awaited status. A step whose every attempt fails ends the journey as
// failed, unless the step says on_failure: continue.
func (r *run) sendStep(ctx workflow.Context, step string, s *journeys.SendStep) error {
	res, err := r.attempts(ctx, step, s)
	if err != nil {
		return err
	}
	r.steps[step], r.last = res, res
	if res.outcome == stepBlocked {
		return &ending{outcome: OutcomeBlocked, reason: fmt.Sprintf("step %s: every attempt was skipped (%s)", step, strings.Join(res.reasons, "; "))}
	}
	if res.outcome == journeys.StepFailed || res.outcome == journeys.StepNoAnswer {
		if s.OnFailure != "continue" {
			return &ending{outcome: OutcomeFailed, reason: fmt.Sprintf("step %s: no attempt got through", step)}
		}
	}
	return nil
}

// attempts tries the step's attempts in order.
func (r *run) attempts(ctx workflow.Context, step string, s *journeys.SendStep) (stepResult, error) {
	failed := stepResult{outcome: journeys.StepFailed}
	var skipped []string
	// Attempts on a channel where the contact was unreachable last time
	// (not on WhatsApp, say) go after the others: later journeys try the
	// channel that works first, until the contact writes on it again.
	queue := slices.Clone(s.Attempts)
	deferred := 0
	for i := 0; i < len(queue); i++ {
		a := queue[i]
		r.attempt++
		n := r.attempt
		ev := Event{Step: step, Attempt: n, Channel: a.Channel}
		to := r.in.To
		if a.Channel == channels.Email {
			to = r.in.Email
		}
		var el activities.Eligibility
		if to == "" {
			el.Reason = fmt.Sprintf("no %s address for this contact", a.Channel)
		} else {
			el = r.eligible(ctx, a)
		}
		if !el.Allowed {
			skipped = append(skipped, fmt.Sprintf("%s: %s", a.Channel, el.Reason))
			r.skip(ctx, ev, el.Reason)
			continue
		}
		if el.Unreachable != "" && i < len(s.Attempts) && i < len(queue)-1 {
			r.record(ctx, withReason(ev, EventSkipped, "unreachable here last time ("+el.Unreachable+"): trying the other channels first"))
			queue = append(queue, a)
			deferred++
			continue
		}
		if err := r.holdForQuietHours(ctx, ev); err != nil {
			return stepResult{}, err
		}
		now := workflow.Now(ctx)
		limit, expiring := now.Add(a.WithinOrDefault()), false
		if !r.deadline.IsZero() && !r.deadline.After(limit) {
			limit, expiring = r.deadline, true
		}
		if !limit.After(now) {
			return stepResult{}, &ending{outcome: OutcomeExpired, reason: "the journey's expire passed"}
		}
		msg, err := a.Render(to, r.vars)
		if err != nil {
			r.fallback(ctx, ev, "", err.Error())
			continue
		}
		var instead string
		if msg.Template != nil && msg.Text != "" {
			// A session text with a template to fall back on: the template
			// goes only when the 24-hour window is closed.
			if el.UseTemplate {
				msg.Text = ""
				instead = windowClosedTemplate + ": "
			} else {
				msg.Template = nil
			}
		}
		msg.Journey, msg.Step = r.in.Journey.Name, step
		msg.Correlation = channels.Correlation{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Attempt: n}
		want := a.AwaitOrDefault()
		r.record(ctx, withReason(ev, EventAttempt, fmt.Sprintf("%s%s, awaiting %s within %s", instead, describe(msg), want, limit.Sub(now))))
		if !r.fewerWrites || a.Channel != r.channel {
			r.upsert(ctx, journeys.ChannelAttr.ValueSet(string(a.Channel)))
			r.channel = a.Channel
		}

		sent, err := r.sendMessage(ctx, limit, activities.SendRequest{Journey: r.in.Journey.Name, Step: step, Message: msg})
		if err != nil {
			var end *ending
			if temporal.IsCanceledError(err) || errors.As(err, &end) {
				return stepResult{}, err
			}
			code, reason, unknown := failure(err)
			ev.Code = code
			if unknown {
				// The provider may have the message: wait for a status that
				// names this attempt rather than send it again.
				r.record(ctx, withReason(ev, EventSendFailed, reason+"; outcome unknown, waiting for a status"))
				key, err := r.adoptByAttempt(ctx, n, step, a.Channel, limit)
				if err != nil {
					return stepResult{}, err
				}
				if key != "" {
					res, reached, err := r.awaitSent(ctx, a, ev, key, want, limit, now)
					if err != nil || reached {
						return res, err
					}
					failed = res
					continue
				}
				r.fallback(ctx, ev, code, fmt.Sprintf("no status for the attempt within %s", limit.Sub(now)))
				failed = stepResult{outcome: journeys.StepNoAnswer, channel: a.Channel}
				continue
			}
			r.record(ctx, withReason(ev, EventSendFailed, reason))
			r.note(withReason(ev, EventSendFailed, reason), store.EventFailed, templateName(msg))
			if expiring && !workflow.Now(ctx).Before(limit) {
				return stepResult{}, &ending{outcome: OutcomeExpired, reason: "the journey's expire passed"}
			}
			r.fallback(ctx, ev, code, "send failed: "+reason)
			continue
		}
		ev.Provider, ev.MessageID = sent.Provider, sent.MessageID
		key := messageKey(sent.Provider, sent.MessageID)
		r.current = key
		r.remember(key, sentMessage{attempt: n, step: step, channel: a.Channel, template: templateName(msg), provider: sent.Provider, id: sent.MessageID})
		r.record(ctx, withReason(ev, EventSent, "accepted by "+sent.Provider))
		r.advance(key, channels.StatusAccepted)

		res, reached, err := r.awaitSent(ctx, a, ev, key, want, limit, now)
		if err != nil || reached {
			return res, err
		}
		failed = res
	}
	if len(skipped) == len(queue)-deferred {
		return stepResult{outcome: stepBlocked, reasons: skipped}, nil
	}
	return failed, nil
}

// awaitSent waits for the status of a sent message and says how the
// attempt ended: reached its awaited status, or failed or silent (after
// recording the fallback).
func (r *run) awaitSent(ctx workflow.Context, a journeys.Attempt, ev Event, key string, want channels.Status, limit, start time.Time) (stepResult, bool, error) {
	res, err := r.await(ctx, key, want, limit)
	if err != nil {
		return stepResult{}, false, err
	}
	m := r.sent[key]
	switch res {
	case awaitReached:
		r.result = Result{Channel: a.Channel, MessageID: m.id, Status: r.statuses[key]}
		delivery := r.result
		r.timeline.Delivery = &delivery
		outcome := journeys.StepDelivered
		if r.statuses[key] == channels.StatusRead {
			outcome = journeys.StepRead
		}
		return stepResult{outcome: outcome, channel: a.Channel}, true, nil
	case awaitFailed:
		r.fallback(ctx, ev, "", fmt.Sprintf("%s reported the message failed", m.provider))
		return stepResult{outcome: journeys.StepFailed, channel: a.Channel}, false, nil
	}
	r.fallback(ctx, ev, "", fmt.Sprintf("no %s status within %s", want, limit.Sub(start)))
	return stepResult{outcome: journeys.StepNoAnswer, channel: a.Channel}, false, nil
}

// adoptByAttempt waits until limit for a status that names attempt n but a
// message the journey does not know (its send's outcome was unknown), and
// returns that message's key, or "" when none came.
func (r *run) adoptByAttempt(ctx workflow.Context, n int, step string, ch channels.Channel, limit time.Time) (string, error) {
	r.unknownAttempt, r.unknownStep, r.unknownChannel = n, step, ch
	defer func() { r.unknownAttempt = 0 }()
	got, err := r.waitFor(ctx, waitSpec{until: limit, cond: func() bool { return r.keyOfAttempt(n) != "" }})
	if err != nil || got != waitCond {
		return "", err
	}
	return r.keyOfAttempt(n), nil
}

// keyOfAttempt returns the key of the message attempt n sent, or "".
func (r *run) keyOfAttempt(n int) string { return r.byAttempt[n] }

// remember records the message an attempt sent. Statuses of it that came
// before its send returned (held) now name its attempt, step and channel,
// in the timeline and in the events not yet written to the event log. It
// changes no command: the timeline is the query's, the events go in the
// next batch.
func (r *run) remember(key string, m sentMessage) {
	r.sent[key] = m
	r.byAttempt[m.attempt] = key
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

// skip records an attempt that is not made, and why.
func (r *run) skip(ctx workflow.Context, ev Event, reason string) {
	ev = withReason(ev, EventSkipped, reason)
	ev.Time = workflow.Now(ctx).UTC()
	r.record(ctx, ev)
	r.note(ev, store.EventSkipped, "")
}

// sendMessage runs the send activity, taking status signals and events
// while it runs: a provider may report a status before its API call has
// returned. If the journey ends meanwhile, the activity is cancelled.
func (r *run) sendMessage(ctx workflow.Context, limit time.Time, req activities.SendRequest) (channels.SendResult, error) {
	budget := limit.Sub(workflow.Now(ctx))
	actx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
		TaskQueue:              journeys.ActivityTaskQueue(req.Message.Channel),
		ScheduleToCloseTimeout: budget,
		StartToCloseTimeout:    min(sendTimeout, budget),
		RetryPolicy:            &sendRetry,
	})
	fut := workflow.ExecuteActivity(actx, activities.SendName, req)
	if _, err := r.waitFor(ctx, waitSpec{fut: fut}); err != nil {
		return channels.SendResult{}, err
	}
	var res channels.SendResult
	err := fut.Get(ctx, &res)
	return res, err
}

// await waits until the message reaches want, fails, or limit passes.
func (r *run) await(ctx workflow.Context, key string, want channels.Status, limit time.Time) (awaitResult, error) {
	check := func() (awaitResult, bool) {
		switch s := r.statuses[key]; {
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

// receive takes one status update. Duplicates and statuses that would move
// a message backwards are dropped; a status for a message whose send has not
// returned yet is held until it does; a late status for an earlier attempt
// is recorded but never re-sends.
func (r *run) receive(ctx workflow.Context, u channels.StatusUpdate) {
	if u.MessageID == "" && u.Attempt > 0 {
		// Some statuses name the attempt but not the message (an email
		// bounced before it was numbered): the attempt's message it is.
		if key := r.keyOfAttempt(u.Attempt); key != "" {
			u.Provider, u.MessageID = r.sent[key].provider, r.sent[key].id
		}
	}
	if !u.Status.Valid() || u.MessageID == "" {
		r.record(ctx, Event{Kind: EventStatus, Provider: u.Provider, MessageID: u.MessageID, Status: u.Status,
			Reason: "ignored: not a status update Switchback knows"})
		return
	}
	key := messageKey(u.Provider, u.MessageID)
	if !r.advance(key, u.Status) {
		return
	}
	ev := Event{Kind: EventStatus, Provider: u.Provider, MessageID: u.MessageID, Status: u.Status,
		Code: u.ErrorCode, Reason: u.ErrorReason, Attempt: u.Attempt}
	m, known := r.sent[key]
	if !known && r.unknownAttempt > 0 && u.Attempt == r.unknownAttempt {
		// The message of a send whose outcome was unknown: adopt it.
		m = sentMessage{attempt: u.Attempt, step: r.unknownStep, channel: r.unknownChannel, provider: u.Provider, id: u.MessageID}
		r.remember(key, m)
		r.current, known = key, true
	}
	if known {
		ev.Attempt, ev.Channel, ev.Step = m.attempt, m.channel, m.step
	}
	switch {
	case !known:
		ev.Reason = joinReason(ev.Reason, "held until the send returns")
	case key != r.current:
		ev.Reason = joinReason(ev.Reason, "late: for an earlier attempt, nothing is re-sent")
	}
	r.record(ctx, ev)
	noted := ev
	noted.Time, noted.Reason = workflow.Now(ctx).UTC(), u.ErrorReason
	r.notePriced(noted, store.EventStatus(u.Status), m.template, u.PricingCategory)
}

// advance moves the message to status s if that is progress, and reports
// whether it was.
func (r *run) advance(key string, s channels.Status) bool {
	if !r.statuses[key].Advances(s) {
		return false
	}
	r.statuses[key] = s
	return true
}

func (r *run) fallback(ctx workflow.Context, ev Event, code, reason string) {
	ev.Code = code
	ev = withReason(ev, EventFallback, reason)
	ev.Time = workflow.Now(ctx).UTC()
	r.record(ctx, ev)
	r.note(ev, store.EventFallback, "")
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
	r.record(ctx, withReason(ev, EventWait, fmt.Sprintf("quiet hours in %s: held until %s", zone, resume.Format(time.RFC3339))))
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

func withReason(ev Event, kind EventKind, reason string) Event {
	ev.Kind, ev.Reason = kind, reason
	return ev
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// describe says what a message is, without its content (which may be a code).
func describe(m channels.Message) string {
	switch {
	case m.Template != nil:
		return fmt.Sprintf("template %s (%s)", m.Template.Name, m.Template.Language)
	case m.Email != nil && m.Email.TemplateID != "":
		return "email template " + m.Email.TemplateID
	case m.Email != nil:
		return "email"
	case m.Channel == channels.WhatsApp:
		return "session message"
	}
	return "text message"
}

// failure extracts the provider's code and a reason from a send activity
// error, and whether the send's outcome is unknown.
func failure(err error) (code, reason string, unknown bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.SendErrorType {
		var f activities.SendFailure
		if appErr.HasDetails() && appErr.Details(&f) == nil {
			kind := "retryable"
			if f.Permanent {
				kind = "permanent"
			}
			reason = fmt.Sprintf("%s error %s from %s: %s", kind, f.Code, f.Provider, f.Reason)
			var timeoutErr *temporal.TimeoutError
			if errors.As(err, &timeoutErr) {
				reason = "gave up retrying within the attempt's time; last " + reason
			}
			return f.Code, reason, f.Unknown
		}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "timeout", fmt.Sprintf("provider not reached in time (%s timeout)", timeoutErr.TimeoutType()), false
	}
	return "", err.Error(), false
}
