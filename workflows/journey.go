// Package workflows holds the Journey workflow: it interprets a journey
// definition step by step, sends through each step's fallback chain, follows
// the delivery statuses that webhooks signal back, reacts to events, checks
// codes, and keeps a timeline of what it did and why.
package workflows

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// defaultVerifyWindow is how long a code can be checked when the journey
// has no expire.
const defaultVerifyWindow = 10 * time.Minute

// defaultVerifyAttempts bounds code checks when the journey does not.
const defaultVerifyAttempts = 5

// verifyGuardChange versions the verify update handler's own check that a
// code may still be checked: journeys started before it replay without.
const verifyGuardChange = "verify-guard"

// Journey runs one journey for one recipient. Register it with Register,
// under journeys.WorkflowType.
func (j *Journeys) Journey(ctx workflow.Context, in journeys.Input) (Result, error) {
	in, err := resolveJourney(ctx, in)
	if err != nil {
		return Result{}, err
	}
	r := &run{
		in:        in,
		keys:      j,
		vars:      in.Vars,
		statuses:  map[string]channels.Status{},
		sent:      map[string]sentMessage{},
		byAttempt: map[int]string{},
		steps:     map[string]stepResult{},
		seen:      map[string]bool{},
		eventIDs:  map[string]bool{},
		timeline:  Timeline{Journey: in.Journey.Name, Outcome: OutcomeRunning},
		signals:   workflow.GetSignalChannel(ctx, SignalStatus),
		events:    workflow.GetSignalChannel(ctx, SignalEvent),
		wake:      workflow.NewBufferedChannel(ctx, 1),
	}
	if err := workflow.SetQueryHandler(ctx, QueryTimeline, func() (Timeline, error) {
		return r.timeline, nil
	}); err != nil {
		return Result{}, fmt.Errorf("set timeline query: %w", err)
	}
	r.started = workflow.Now(ctx)
	r.workflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	r.checks = workflow.GetVersion(ctx, checksChange, workflow.DefaultVersion, 1) == 1
	if workflow.GetVersion(ctx, fewerWritesChange, workflow.DefaultVersion, 1) == 1 {
		// The starter set the first channel; upsert it only when it changes,
		// and write the event log at decisions, not at every status.
		r.fewerWrites = true
		ch, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(journeys.ChannelAttr)
		r.channel = channels.Channel(ch)
	}
	r.setOwnSearchAttributes(ctx)
	if in.Journey.Expire > 0 {
		r.deadline = r.started.Add(time.Duration(in.Journey.Expire))
	}
	r.record(ctx, Event{Kind: EventStarted, Reason: fmt.Sprintf("%s journey (%s)", in.Journey.Name, in.Journey.Purpose)})
	if err := in.Journey.CheckVars(in.Vars); err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", err)
	}
	if v := in.Journey.Verify; v != nil {
		if err := r.setVerify(ctx, v); err != nil {
			return Result{}, err
		}
	}

	err = r.runSteps(ctx, "", in.Journey.Steps)
	if err == nil && r.verify != nil {
		err = r.awaitVerification(ctx)
	}
	if err == nil && len(in.Journey.On) > 0 {
		err = r.handleEvents(ctx)
	}
	var end *ending
	switch {
	case errors.As(err, &end):
		r.finish(ctx, end.outcome, end.reason)
	case temporal.IsCanceledError(err):
		r.finish(ctx, OutcomeCanceled, "canceled")
		return Result{}, err
	case err != nil:
		return Result{}, err
	case r.last.outcome == journeys.StepDelivered || r.last.outcome == journeys.StepRead:
		r.finish(ctx, OutcomeDelivered, "")
	default:
		r.finish(ctx, OutcomeCompleted, "")
	}
	return r.result, nil
}

// ending is the error that unwinds the steps when the journey ends early:
// an exit step, a goal event, a verified code, a failed send, expiry.
type ending struct {
	outcome Outcome
	reason  string
}

func (e *ending) Error() string { return "journey ended: " + string(e.outcome) }

// run is the state of one journey execution.
type run struct {
	in       journeys.Input
	keys     *Journeys
	vars     map[string]string // the variables in scope: the input's, plus an event's in its handler
	timeline Timeline
	result   Result
	signals  workflow.ReceiveChannel // status updates
	events   workflow.ReceiveChannel // events
	wake     workflow.Channel        // an update handler changed the state
	started  time.Time
	deadline time.Time // zero: no expire
	attempt  int       // attempts so far, across steps
	current  string    // message key of the attempt in flight
	// statuses holds the furthest status of every message the journey has
	// heard of, including ones whose send has not returned yet.
	statuses  map[string]channels.Status
	sent      map[string]sentMessage // message key → the attempt that sent it
	byAttempt map[int]string         // attempt → message key
	steps     map[string]stepResult  // send step id → how it ended
	last      stepResult             // the last send step's result
	seen      map[string]bool        // event names received
	eventIDs  map[string]bool        // event ids received, for deduplication
	pending   []pendingEvent         // events for the on handlers, in arrival order
	end       *ending                // set when the journey must end at once
	verify    *verifyState
	// checks: this execution checks eligibility and keeps the message
	// event log (see checksChange).
	checks     bool
	workflowID string
	// fewerWrites: this execution upserts SwitchbackChannel only when it
	// changes and batches the event log (see fewerWritesChange).
	fewerWrites bool
	channel     channels.Channel // the SwitchbackChannel value
	// unknownAttempt is the attempt whose send had an unknown outcome and
	// whose message the journey adopts from the first status naming it.
	unknownAttempt int
	unknownStep    string
	unknownChannel channels.Channel
	unrecorded     []activities.EventRequest // message events not yet written
}

// sentMessage is what the journey knows of a message it sent.
type sentMessage struct {
	attempt  int
	step     string
	channel  channels.Channel
	template string
	provider string
	id       string
}

// stepResult is how a send step ended.
type stepResult struct {
	outcome journeys.StepOutcome
	channel channels.Channel
	reasons []string // why each attempt was skipped, when all were
}

// stepBlocked is the outcome of a send step whose every attempt was skipped.
const stepBlocked journeys.StepOutcome = "blocked"

func messageKey(provider, id string) string { return provider + "/" + id }

// runSteps runs a list of steps from the first, following branches, until
// the list ends (nil) or the journey ends (*ending).
func (r *run) runSteps(ctx workflow.Context, scope string, steps []journeys.Step) error {
	index := map[string]int{}
	for i, s := range steps {
		if id := s.ID(); id != "" {
			index[id] = i
		}
	}
	for i := 0; i < len(steps); {
		s := steps[i]
		id := s.ID()
		if id == "" {
			id = fmt.Sprintf("%sstep%d", scope, i+1)
		}
		next := i + 1
		switch {
		case s.Send != nil:
			if err := r.sendStep(ctx, id, s.Send); err != nil {
				return err
			}
		case s.Wait != nil:
			if err := r.waitStep(ctx, id, s.Wait); err != nil {
				return err
			}
		case s.Branch != nil:
			taken, reason := r.test(s.Branch)
			target := s.Branch.Else
			if taken {
				target = s.Branch.Then
			}
			r.record(ctx, Event{Kind: EventBranch, Step: id, Reason: fmt.Sprintf("%s: go to %s", reason, orNext(target))})
			if n, ok := index[target]; ok {
				next = n
			}
		case s.Exit != nil:
			outcome := Outcome(s.Exit.Outcome)
			if outcome == "" {
				outcome = OutcomeCompleted
			}
			return &ending{outcome: outcome, reason: "exit step " + id}
		}
		i = next
	}
	return nil
}

func orNext(target string) string {
	if target == "" {
		return "the next step"
	}
	return target
}

// test evaluates a branch's condition and says why.
func (r *run) test(b *journeys.BranchStep) (bool, string) {
	if b.Event != "" {
		if r.seen[b.Event] {
			return true, fmt.Sprintf("event %s received", b.Event)
		}
		return false, fmt.Sprintf("no event %s", b.Event)
	}
	res := r.steps[b.Step]
	ok := res.outcome == b.Outcome || (b.Outcome == journeys.StepDelivered && res.outcome == journeys.StepRead)
	if ok && b.Channel != "" {
		ok = res.channel == b.Channel
	}
	got := string(res.outcome)
	if res.channel != "" {
		got += " on " + string(res.channel)
	}
	want := string(b.Outcome)
	if b.Channel != "" {
		want += " on " + string(b.Channel)
	}
	if ok {
		return true, fmt.Sprintf("step %s ended %s", b.Step, got)
	}
	return false, fmt.Sprintf("step %s ended %s, not %s", b.Step, got, want)
}

// waitStep waits a duration, or until an event or its timeout.
func (r *run) waitStep(ctx workflow.Context, id string, w *journeys.WaitStep) error {
	r.flush(ctx)
	now := workflow.Now(ctx)
	if w.Until == "" {
		r.record(ctx, Event{Kind: EventWait, Step: id, Reason: "waiting " + w.Duration.String()})
		if _, err := r.waitFor(ctx, waitSpec{until: now.Add(time.Duration(w.Duration))}); err != nil {
			return err
		}
		return nil
	}
	r.record(ctx, Event{Kind: EventWait, Step: id, Reason: fmt.Sprintf("waiting for %s, at most %s", w.Until, w.Timeout)})
	got, err := r.waitFor(ctx, waitSpec{until: now.Add(time.Duration(w.Timeout)), cond: func() bool { return r.seen[w.Until] }})
	if err != nil {
		return err
	}
	if got == waitCond {
		r.record(ctx, Event{Kind: EventWait, Step: id, Name: w.Until, Reason: w.Until + " received"})
		return nil
	}
	if w.OnTimeout == "exit" {
		return &ending{outcome: OutcomeCompleted, reason: fmt.Sprintf("no %s within %s", w.Until, w.Timeout)}
	}
	r.record(ctx, Event{Kind: EventWait, Step: id, Reason: fmt.Sprintf("no %s within %s: going on", w.Until, w.Timeout)})
	return nil
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
	if !r.deadline.IsZero() && (until.IsZero() || !r.deadline.After(until)) && w.fut == nil {
		until, expiring = r.deadline, true
	}
	var timer workflow.Future
	if !until.IsZero() {
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		defer cancelTimer()
		timer = workflow.NewTimer(timerCtx, until.Sub(workflow.Now(ctx)))
	}
	for {
		var fired bool
		var timerErr error
		sel := workflow.NewSelector(ctx)
		if w.fut != nil {
			sel.AddFuture(w.fut, func(workflow.Future) {})
		}
		if timer != nil {
			sel.AddFuture(timer, func(f workflow.Future) { fired, timerErr = true, f.Get(ctx, nil) })
		}
		r.addReceives(ctx, sel)
		sel.Select(ctx)
		if !r.fewerWrites {
			r.flush(ctx)
		}
		switch {
		case fired && timerErr != nil:
			return 0, timerErr
		case fired && expiring:
			return 0, &ending{outcome: OutcomeExpired, reason: "the journey's expire passed"}
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

// addReceives makes sel take the next status signal, event, or wake-up.
func (r *run) addReceives(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(r.signals, func(c workflow.ReceiveChannel, _ bool) {
		var u channels.StatusUpdate
		c.Receive(ctx, &u)
		r.receive(ctx, u)
	})
	sel.AddReceive(r.events, func(c workflow.ReceiveChannel, _ bool) {
		var ev journeys.EventInput
		c.Receive(ctx, &ev)
		r.receiveEvent(ctx, ev)
	})
	sel.AddReceive(r.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
}

// receiveEvent takes one event: duplicates (by id) are dropped; a goal
// ends the journey as converted; an event for an on handler is queued.
func (r *run) receiveEvent(ctx workflow.Context, ev journeys.EventInput) {
	if ev.ID != "" {
		if r.eventIDs[ev.ID] {
			return
		}
		r.eventIDs[ev.ID] = true
	}
	r.seen[ev.Name] = true
	e := Event{Kind: EventReceived, Name: ev.Name}
	switch {
	case slices.Contains(r.in.Journey.Goal, ev.Name):
		e.Reason = "goal reached"
		r.note(Event{Name: ev.Name, Reason: "goal " + ev.Name, Time: workflow.Now(ctx).UTC()}, store.EventConverted, "")
		if r.end == nil {
			r.end = &ending{outcome: OutcomeConverted, reason: "goal " + ev.Name}
		}
	case slices.ContainsFunc(r.in.Journey.On, func(h journeys.Handler) bool { return h.Event == ev.Name }):
		r.pending = append(r.pending, pendingEvent{EventInput: ev, entry: len(r.timeline.Events)})
	}
	r.record(ctx, e)
}

// pendingEvent is an event queued for its on handler, with the index of
// its timeline entry: an event the handler will not take is listed once,
// as ignored with its reason.
type pendingEvent struct {
	journeys.EventInput
	entry int
}

// ignore marks a queued event's timeline entry as ignored, and why. It
// changes no command: the timeline is the query's.
func (r *run) ignore(ev pendingEvent, why string) {
	r.timeline.Events[ev.entry].Reason = "ignored: " + why
}

// handleEvents runs the on handlers for events as they arrive, until a
// handler ends the journey or it expires.
func (r *run) handleEvents(ctx workflow.Context) error {
	handlers := r.in.Journey.On
	ran := make([]bool, len(handlers))
	latest := -1
	names := make([]string, len(handlers))
	for i, h := range handlers {
		names[i] = h.Event
	}
	r.timeline.Awaiting = "events: " + fmt.Sprint(names)
	defer func() { r.timeline.Awaiting = "" }()
	for {
		r.flush(ctx)
		if _, err := r.waitFor(ctx, waitSpec{cond: func() bool { return len(r.pending) > 0 }}); err != nil {
			return err
		}
		ev := r.pending[0]
		r.pending = r.pending[1:]
		h := slices.IndexFunc(handlers, func(h journeys.Handler) bool { return h.Event == ev.Name })
		switch {
		case ran[h]:
			r.ignore(ev, "already handled")
			continue
		case !handlers[h].AnyTime && h < latest:
			r.ignore(ev, fmt.Sprintf("out of order, %s came first", handlers[latest].Event))
			continue
		}
		if err := r.in.Journey.CheckEvent(ev.EventInput); err != nil {
			r.ignore(ev, err.Error())
			continue
		}
		ran[h], latest = true, max(latest, h)
		r.vars = mergeVars(r.in.Vars, ev.Vars)
		err := r.runSteps(ctx, ev.Name+".", handlers[h].Steps)
		r.vars = r.in.Vars
		if err != nil {
			return err
		}
		if handlers[h].End {
			return &ending{outcome: OutcomeCompleted, reason: "event " + ev.Name}
		}
	}
}

func mergeVars(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// finish drains status signals and events that arrived in the meantime,
// so the timeline shows them, and records the outcome.
func (r *run) finish(ctx workflow.Context, outcome Outcome, reason string) {
	for {
		var u channels.StatusUpdate
		if !r.signals.ReceiveAsync(&u) {
			break
		}
		r.receive(ctx, u)
	}
	for {
		var ev journeys.EventInput
		if !r.events.ReceiveAsync(&ev) {
			break
		}
		r.receiveEvent(ctx, ev)
	}
	r.result.Outcome = outcome
	if reason == "" {
		reason = string(outcome)
		if outcome == OutcomeDelivered {
			reason = fmt.Sprintf("%s on %s", r.result.Status, r.result.Channel)
		}
	}
	r.timeline.Outcome = outcome
	r.timeline.Awaiting = ""
	r.record(ctx, Event{Kind: EventDone, Channel: r.result.Channel, MessageID: r.result.MessageID, Status: r.result.Status, Reason: reason})
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	r.flush(dctx)
	r.upsert(dctx, journeys.OutcomeAttr.ValueSet(string(outcome)))
}

func (r *run) record(ctx workflow.Context, ev Event) {
	ev.Time = workflow.Now(ctx).UTC()
	r.timeline.Events = append(r.timeline.Events, ev)
}

func (r *run) upsert(ctx workflow.Context, u ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, u...); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attribute", "error", err)
	}
}

// verifyState is what the journey keeps to check a code: never the code.
type verifyState struct {
	hash      []byte // HMAC of the code under the worker's verify key
	attempts  int
	max       int
	until     time.Time
	verified  bool
	exhausted bool
	// guarded: the update handler checks again that a code may be checked
	// (see verifyGuardChange).
	guarded bool
}

// setVerify keeps a keyed hash of the code and registers the verify update.
func (r *run) setVerify(ctx workflow.Context, v *journeys.Verification) error {
	until := r.deadline
	if until.IsZero() {
		until = r.started.Add(defaultVerifyWindow)
	}
	r.verify = &verifyState{hash: r.codeHash(r.in.Vars[v.Param]), max: v.MaxAttempts, until: until}
	if r.verify.max == 0 {
		r.verify.max = defaultVerifyAttempts
	}
	r.verify.guarded = workflow.GetVersion(ctx, verifyGuardChange, workflow.DefaultVersion, 1) == 1
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerify, r.checkCode, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, code string) error {
			if code == "" {
				return errors.New("no code given")
			}
			return r.verifyClosed(ctx)
		},
	})
}

// checkCode is the verify update's handler. The validator does not run on
// replay, and two updates of one workflow task both pass it before either
// handler runs: the handler checks again that a code may be checked.
func (r *run) checkCode(ctx workflow.Context, code string) (journeys.VerifyResult, error) {
	vs := r.verify
	if vs.guarded {
		if err := r.verifyClosed(ctx); err != nil {
			return journeys.VerifyResult{}, err
		}
	}
	vs.attempts++
	ok := hmac.Equal(vs.hash, r.codeHash(code))
	res := journeys.VerifyResult{Verified: ok, Remaining: vs.max - vs.attempts}
	switch {
	case ok:
		vs.verified = true
		r.record(ctx, Event{Kind: EventVerify, Reason: "right code"})
		if r.end == nil {
			r.end = &ending{outcome: OutcomeVerified, reason: "code verified"}
		}
	case vs.attempts >= vs.max:
		vs.exhausted = true
		r.record(ctx, Event{Kind: EventVerify, Reason: "wrong code; no checks left"})
		if r.end == nil {
			r.end = &ending{outcome: OutcomeLocked, reason: fmt.Sprintf("%d wrong codes", vs.attempts)}
		}
	default:
		r.record(ctx, Event{Kind: EventVerify, Reason: fmt.Sprintf("wrong code; %d checks left", res.Remaining)})
	}
	r.wake.SendAsync(nil)
	return res, nil
}

// verifyClosed says why no code may be checked now, or returns nil.
func (r *run) verifyClosed(ctx workflow.Context) error {
	vs := r.verify
	switch {
	case vs.verified:
		return errors.New("the code was already verified")
	case vs.exhausted || vs.attempts >= vs.max:
		return fmt.Errorf("no checks left: %d wrong codes", vs.attempts)
	case !workflow.Now(ctx).Before(vs.until):
		return errors.New("the code has expired")
	case r.end != nil:
		return fmt.Errorf("the journey has ended (%s)", r.end.outcome)
	}
	return nil
}

// codeHash is the HMAC-SHA256 of the journey's workflow id and a code under
// the worker's verify key: without the key, the hash does not reveal the
// code, even though a code has few digits.
func (r *run) codeHash(code string) []byte {
	m := hmac.New(sha256.New, r.keys.verifyKey)
	m.Write([]byte(r.workflowID + "\x00" + code))
	return m.Sum(nil)
}

// awaitVerification keeps the journey open, after its steps, until the code
// is verified, too many wrong codes are checked, or the code expires. A
// journey whose sends all failed has nothing to verify.
func (r *run) awaitVerification(ctx workflow.Context) error {
	if r.last.outcome == journeys.StepFailed {
		return &ending{outcome: OutcomeFailed, reason: "the code could not be delivered"}
	}
	r.flush(ctx)
	r.timeline.Awaiting = "verification until " + r.verify.until.UTC().Format(time.RFC3339)
	defer func() { r.timeline.Awaiting = "" }()
	if _, err := r.waitFor(ctx, waitSpec{until: r.verify.until}); err != nil {
		return err
	}
	return &ending{outcome: OutcomeExpired, reason: "the code expired unverified"}
}
