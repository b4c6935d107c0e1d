// Package workflows holds the Journey workflow: it interprets a journey
// definition step by step, sends through each step's fallback chain, follows
// the delivery statuses that webhooks signal back, and keeps a timeline of
// what it did and why.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// SignalStatus is the signal that carries a channels.StatusUpdate to a journey.
const SignalStatus = "status"

// QueryTimeline is the query that returns a journey's Timeline.
const QueryTimeline = "timeline"

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

// Journey runs one journey for one recipient. Register it under
// journeys.WorkflowType.
func Journey(ctx workflow.Context, in journeys.Input) (Result, error) {
	r := &run{
		in:       in,
		statuses: map[string]channels.Status{},
		sent:     map[string]sentMessage{},
		timeline: Timeline{Journey: in.Journey.Name, Outcome: OutcomeRunning},
		signals:  workflow.GetSignalChannel(ctx, SignalStatus),
	}
	if err := workflow.SetQueryHandler(ctx, QueryTimeline, func() (Timeline, error) {
		return r.timeline, nil
	}); err != nil {
		return Result{}, fmt.Errorf("set timeline query: %w", err)
	}
	r.started = workflow.Now(ctx)
	if in.Journey.Expire > 0 {
		r.deadline = r.started.Add(time.Duration(in.Journey.Expire))
	}
	r.record(ctx, Event{Kind: EventStarted, Reason: fmt.Sprintf("%s journey (%s)", in.Journey.Name, in.Journey.Purpose)})
	if err := in.Journey.CheckVars(in.Vars); err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", err)
	}

	var res Result
	for i, step := range in.Journey.Steps {
		if step.Send == nil {
			continue
		}
		id := step.Send.ID
		if id == "" {
			id = fmt.Sprintf("step%d", i+1)
		}
		var err error
		res, err = r.send(ctx, id, step.Send)
		if err != nil {
			if temporal.IsCanceledError(err) {
				r.finish(ctx, Result{Outcome: OutcomeCanceled}, "cancelled")
			}
			return Result{}, err
		}
		if res.Outcome != OutcomeDelivered {
			break
		}
	}
	r.finish(ctx, res, "")
	return res, nil
}

// run is the state of one journey execution.
type run struct {
	in       journeys.Input
	timeline Timeline
	signals  workflow.ReceiveChannel
	started  time.Time
	deadline time.Time // zero: no expire
	attempt  int       // attempts so far, across steps
	current  string    // message key of the attempt in flight
	// statuses holds the furthest status of every message the journey has
	// heard of, including ones whose send has not returned yet.
	statuses map[string]channels.Status
	sent     map[string]sentMessage // message key → the attempt that sent it
}

// sentMessage is what the journey knows of a message it sent.
type sentMessage struct {
	attempt int
	channel channels.Channel
}

func messageKey(provider, id string) string { return provider + "/" + id }

// awaitResult is how waiting for a status ended.
type awaitResult int

const (
	awaitReached awaitResult = iota
	awaitFailed
	awaitTimedOut
)

// send runs one send step: each attempt in order until one reaches its
// awaited status.
func (r *run) send(ctx workflow.Context, step string, s *journeys.SendStep) (Result, error) {
	for _, a := range s.Attempts {
		r.attempt++
		n := r.attempt
		now := workflow.Now(ctx)
		limit, expiring := now.Add(a.WithinOrDefault()), false
		if !r.deadline.IsZero() && !r.deadline.After(limit) {
			limit, expiring = r.deadline, true
		}
		if !limit.After(now) {
			return Result{Outcome: OutcomeExpired}, nil
		}
		ev := Event{Step: step, Attempt: n, Channel: a.Channel}
		msg, err := a.Render(r.in.To, r.in.Vars)
		if err != nil {
			r.fallback(ctx, ev, "", err.Error())
			continue
		}
		msg.Correlation = channels.Correlation{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Attempt: n}
		want := a.AwaitOrDefault()
		r.record(ctx, withReason(ev, EventAttempt, fmt.Sprintf("%s, awaiting %s within %s", describe(msg), want, limit.Sub(now))))
		r.upsert(ctx, journeys.ChannelAttr.ValueSet(string(a.Channel)))

		sent, err := r.sendMessage(ctx, limit, activities.SendRequest{Journey: r.in.Journey.Name, Step: step, Message: msg})
		if err != nil {
			if temporal.IsCanceledError(err) {
				return Result{}, err
			}
			code, reason := failure(err)
			ev.Code = code
			r.record(ctx, withReason(ev, EventSendFailed, reason))
			if expiring && !workflow.Now(ctx).Before(limit) {
				return Result{Outcome: OutcomeExpired}, nil
			}
			r.fallback(ctx, ev, code, "send failed: "+reason)
			continue
		}
		ev.Provider, ev.MessageID = sent.Provider, sent.MessageID
		key := messageKey(sent.Provider, sent.MessageID)
		r.current = key
		r.sent[key] = sentMessage{attempt: n, channel: a.Channel}
		r.record(ctx, withReason(ev, EventSent, "accepted by "+sent.Provider))
		r.advance(key, channels.StatusAccepted)

		switch res, err := r.await(ctx, key, want, limit); {
		case err != nil:
			return Result{}, err
		case res == awaitReached:
			return Result{Outcome: OutcomeDelivered, Channel: a.Channel, MessageID: sent.MessageID, Status: r.statuses[key]}, nil
		case res == awaitFailed:
			r.fallback(ctx, ev, "", fmt.Sprintf("%s reported the message failed", sent.Provider))
		case expiring:
			return Result{Outcome: OutcomeExpired}, nil
		default:
			r.fallback(ctx, ev, "", fmt.Sprintf("no %s status within %s", want, limit.Sub(now)))
		}
	}
	return Result{Outcome: OutcomeFailed}, nil
}

// sendMessage runs the send activity, taking status signals while it runs:
// a provider may report a status before its API call has returned.
func (r *run) sendMessage(ctx workflow.Context, limit time.Time, req activities.SendRequest) (channels.SendResult, error) {
	budget := limit.Sub(workflow.Now(ctx))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              journeys.ActivityTaskQueue(req.Message.Channel),
		ScheduleToCloseTimeout: budget,
		StartToCloseTimeout:    min(sendTimeout, budget),
		RetryPolicy:            &sendRetry,
	})
	fut := workflow.ExecuteActivity(actx, activities.SendName, req)
	for !fut.IsReady() {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(fut, func(workflow.Future) {})
		r.addStatusReceive(ctx, sel)
		sel.Select(ctx)
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
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, limit.Sub(workflow.Now(ctx)))
	for {
		var timedOut bool
		var timerErr error
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(f workflow.Future) { timedOut, timerErr = true, f.Get(ctx, nil) })
		r.addStatusReceive(ctx, sel)
		sel.Select(ctx)
		if timedOut {
			if timerErr != nil {
				return 0, timerErr
			}
			return awaitTimedOut, nil
		}
		if res, ok := check(); ok {
			return res, nil
		}
	}
}

// addStatusReceive makes sel take the next status signal.
func (r *run) addStatusReceive(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(r.signals, func(c workflow.ReceiveChannel, _ bool) {
		var u channels.StatusUpdate
		c.Receive(ctx, &u)
		r.receive(ctx, u)
	})
}

// receive takes one status update. Duplicates and statuses that would move
// a message backwards are dropped; a status for a message whose send has not
// returned yet is held until it does; a late status for an earlier attempt
// is recorded but never re-sends.
func (r *run) receive(ctx workflow.Context, u channels.StatusUpdate) {
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
	if known {
		ev.Attempt, ev.Channel = m.attempt, m.channel
	}
	switch {
	case !known:
		ev.Reason = joinReason(ev.Reason, "held until the send returns")
	case key != r.current:
		ev.Reason = joinReason(ev.Reason, "late: for an earlier attempt, nothing is re-sent")
	}
	r.record(ctx, ev)
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
	r.record(ctx, withReason(ev, EventFallback, reason))
}

// finish drains status signals that arrived in the meantime, so the
// timeline shows them, and records the outcome.
func (r *run) finish(ctx workflow.Context, res Result, reason string) {
	var u channels.StatusUpdate
	for r.signals.ReceiveAsync(&u) {
		r.receive(ctx, u)
		u = channels.StatusUpdate{}
	}
	if reason == "" {
		reason = string(res.Outcome)
		if res.Outcome == OutcomeDelivered {
			reason = fmt.Sprintf("%s on %s", res.Status, res.Channel)
		}
	}
	r.timeline.Outcome = res.Outcome
	r.record(ctx, Event{Kind: EventDone, Channel: res.Channel, MessageID: res.MessageID, Status: res.Status, Reason: reason})
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	r.upsert(dctx, journeys.OutcomeAttr.ValueSet(string(res.Outcome)))
}

func (r *run) record(ctx workflow.Context, ev Event) {
	ev.Time = workflow.Now(ctx).UTC()
	r.timeline.Events = append(r.timeline.Events, ev)
}

func (r *run) upsert(ctx workflow.Context, u temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, u); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attribute", "error", err)
	}
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
	if m.Template != nil {
		return fmt.Sprintf("template %s (%s)", m.Template.Name, m.Template.Language)
	}
	return "text message"
}

// failure extracts the provider's code and a reason from a send activity error.
func failure(err error) (code, reason string) {
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
			return f.Code, reason
		}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "timeout", fmt.Sprintf("provider not reached in time (%s timeout)", timeoutErr.TimeoutType())
	}
	return "", err.Error()
}
