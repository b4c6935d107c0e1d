// Package workflows holds the Journey workflow: it interprets a journey
// definition step by step, sends through each step's fallback chain, follows
// the delivery statuses that webhooks signal back, reacts to events, checks
// codes, and keeps a timeline of what it did and why.
//
// The files follow the workflow's concerns: journey.go runs the steps;
// send.go is the fallback state machine of a send step; statuses.go follows
// the messages it sent; waits.go waits (wait steps, quiet hours, and the one
// loop that takes signals while the journey waits for anything); events.go
// takes events and runs their handlers; verify.go checks codes; checks.go
// asks for eligibility and writes the event log; start.go resolves the
// journey and its search attributes.
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

// Journey runs one journey for one recipient. Register it with Register,
// under journeys.WorkflowType.
func (j *Journeys) Journey(ctx workflow.Context, in journeys.Input) (Result, error) {
	in, err := resolveJourney(ctx, in, j.channels)
	if err != nil {
		return Result{}, err
	}
	r := newRun(ctx, j, in)
	if err := workflow.SetQueryHandler(ctx, QueryTimeline, func() (Timeline, error) {
		return r.timeline, nil
	}); err != nil {
		return Result{}, fmt.Errorf("set timeline query: %w", err)
	}
	if err := r.begin(ctx); err != nil {
		return Result{}, r.failAtStart(ctx, err)
	}
	err = r.runSteps(ctx, "", in.Journey.Steps)
	if err == nil && r.verify != nil {
		err = r.awaitVerification(ctx)
	}
	if err == nil && len(in.Journey.On) > 0 {
		err = r.handleEvents(ctx)
	}
	return r.conclude(ctx, err)
}

// ending is the error that unwinds the steps when the journey ends early:
// an exit step, a goal event, a verified code, a failed send, expiry.
type ending struct {
	outcome Outcome
	reason  string
}

func (e *ending) Error() string { return "journey ended: " + string(e.outcome) }

// errExpired ends the journey because its expire passed.
func errExpired() *ending {
	return &ending{outcome: OutcomeExpired, reason: "the journey's expire passed"}
}

// run is the state of one journey execution.
type run struct {
	in         journeys.Input
	cfg        *Journeys
	vars       map[string]string // the variables in scope: the input's, plus an event's in its handler
	timeline   Timeline
	result     Result
	exec       execution
	inbox      inbox
	sends      sendState
	events     eventState
	verify     *verifyState
	end        *ending                   // set when the journey must end at once
	unrecorded []activities.EventRequest // message events not yet written to the event log
}

// execution is what a run knows of itself from its start: its id, its
// times, and which versioned behaviours it has.
type execution struct {
	workflowID string
	started    time.Time
	deadline   time.Time // zero: no expire
	// checks: this execution checks eligibility and keeps the message
	// event log (see checksChange).
	checks bool
	// fewerWrites: this execution upserts SwitchbackChannel only when it
	// changes and batches the event log (see fewerWritesChange).
	fewerWrites bool
	// current: this execution started under currentChange, and runs every
	// change it covers.
	current bool
}

// inbox is where signals and updates reach a run.
type inbox struct {
	statuses workflow.ReceiveChannel // status updates
	events   workflow.ReceiveChannel // events
	wake     workflow.Channel        // an update handler changed the state
}

// sendState is what a run knows of its sends and their messages.
type sendState struct {
	attempt int    // attempts so far, across steps
	current string // message key of the attempt in flight
	// statuses holds the furthest status of every message the journey has
	// heard of, including ones whose send has not returned yet.
	statuses  map[string]channels.Status
	sent      map[string]sentMessage // message key → the attempt that sent it
	byAttempt map[int]string         // attempt → message key
	steps     map[string]stepResult  // send step id → how it ended
	last      stepResult             // the last send step's result
	channel   channels.Channel       // the SwitchbackChannel value
	// unknown is the attempt whose send had an unknown outcome and whose
	// message the journey adopts from the first status naming it.
	unknown unknownSend
}

// unknownSend is an attempt whose send's outcome is unknown.
type unknownSend struct {
	attempt int // 0: none
	step    string
	channel channels.Channel
}

// eventState is what a run knows of the events it received.
type eventState struct {
	seen map[string]bool // event names received
	ids  map[string]bool // event ids received, for deduplication
	// payloads holds each event name and payload received (a reply's
	// chosen button or row), for branches on a payload.
	payloads map[eventPayload]bool
	// counts is how many events of each name were received; taken is the
	// count a wait step until that event last took (see nextEventChange).
	counts, taken map[string]int
	pending       []pendingEvent // events for the on handlers, in arrival order
}

// eventPayload is an event's name and payload.
type eventPayload struct{ name, payload string }

func newRun(ctx workflow.Context, j *Journeys, in journeys.Input) *run {
	return &run{
		in:       in,
		cfg:      j,
		vars:     in.Vars,
		timeline: Timeline{Journey: in.Journey.Name, Outcome: OutcomeRunning},
		inbox: inbox{
			statuses: workflow.GetSignalChannel(ctx, SignalStatus),
			events:   workflow.GetSignalChannel(ctx, SignalEvent),
			wake:     workflow.NewBufferedChannel(ctx, 1),
		},
		sends: sendState{
			statuses:  map[string]channels.Status{},
			sent:      map[string]sentMessage{},
			byAttempt: map[int]string{},
			steps:     map[string]stepResult{},
		},
		events: eventState{seen: map[string]bool{}, ids: map[string]bool{}, payloads: map[eventPayload]bool{},
			counts: map[string]int{}, taken: map[string]int{}},
	}
}

// begin learns the execution's versions, sets its search attributes, and
// checks its input; a journey whose code must be checked registers the
// verify update.
func (r *run) begin(ctx workflow.Context) error {
	r.exec.started = workflow.Now(ctx)
	r.exec.workflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	r.exec.current = r.startedCurrent(ctx)
	r.exec.checks = r.changed(ctx, checksChange)
	if r.changed(ctx, fewerWritesChange) {
		// The starter set the first channel; upsert it only when it changes,
		// and write the event log at decisions, not at every status.
		r.exec.fewerWrites = true
		ch, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(journeys.ChannelAttr)
		r.sends.channel = channels.Channel(ch)
	}
	r.setOwnSearchAttributes(ctx)
	j := r.in.Journey
	if j.Expire > 0 {
		r.exec.deadline = r.exec.started.Add(time.Duration(j.Expire))
	}
	r.record(ctx, Event{Kind: EventStarted, Reason: fmt.Sprintf("%s journey (%s)", j.Name, j.Purpose)})
	if err := j.CheckVars(r.in.Vars); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidInput", err)
	}
	// A pure function of the journey and the worker's options, adding no
	// command: no version needed (no recorded journey could use wa_link).
	if r.cfg.render.BusinessNumber == "" && j.UsesWALink(r.cfg.channels) {
		return temporal.NewNonRetryableApplicationError(journeys.ErrNoBusinessNumber.Error(), MissingSettingType, journeys.ErrNoBusinessNumber)
	}
	if j.Verify != nil {
		return r.setVerify(ctx, j.Verify)
	}
	return nil
}

// startFailureChange versions the outcome a journey that fails at its
// start (bad input, a missing setting) upserts: journeys failed before it
// replay without the upsert.
const startFailureChange = "start-failure-outcome"

// failAtStart ends a journey that cannot start: its timeline and its
// SwitchbackOutcome say failed and why, as they would had it failed later,
// and err fails the execution.
func (r *run) failAtStart(ctx workflow.Context, err error) error {
	r.timeline.Outcome = OutcomeFailed
	r.record(ctx, Event{Kind: EventDone, Reason: startFailure(err)})
	if workflow.GetVersion(ctx, startFailureChange, workflow.DefaultVersion, 1) == 1 {
		r.upsert(ctx, journeys.OutcomeAttr.ValueSet(string(OutcomeFailed)))
	}
	return err
}

// startFailure says why a journey could not start without the values it
// was given: an error about a value of the wrong type quotes the value
// (an email address, say), which the timeline, shown in the console, need
// not carry; the execution's failure, encrypted, has the whole error.
func startFailure(err error) string {
	var missing *journeys.MissingParamsError
	if errors.As(err, &missing) || errors.Is(err, journeys.ErrNoBusinessNumber) {
		return err.Error()
	}
	return "the journey could not start: a variable has a value of the wrong type or pattern (the execution's failure says which)"
}

// conclude turns how the steps ended into the journey's outcome.
func (r *run) conclude(ctx workflow.Context, err error) (Result, error) {
	var end *ending
	switch {
	case errors.As(err, &end):
		r.finish(ctx, end.outcome, end.reason)
	case temporal.IsCanceledError(err):
		r.finish(ctx, OutcomeCanceled, "canceled")
		return Result{}, err
	case err != nil:
		return Result{}, err
	case r.sends.last.outcome == journeys.StepDelivered || r.sends.last.outcome == journeys.StepRead:
		r.finish(ctx, OutcomeDelivered, "")
	default:
		r.finish(ctx, OutcomeCompleted, "")
	}
	return r.result, nil
}

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
			if n, ok := index[r.branch(ctx, id, s.Branch)]; ok {
				next = n
			}
		case s.Exit != nil:
			return exit(id, s.Exit)
		}
		i = next
	}
	return nil
}

// exit ends the journey at an exit step.
func exit(id string, s *journeys.ExitStep) error {
	outcome := Outcome(s.Outcome)
	if outcome == "" {
		outcome = OutcomeCompleted
	}
	return &ending{outcome: outcome, reason: "exit step " + id}
}

// branch records the way a branch step takes and returns its target ("":
// the next step).
func (r *run) branch(ctx workflow.Context, id string, b *journeys.BranchStep) string {
	taken, reason := r.test(b)
	target := b.Else
	if taken {
		target = b.Then
	}
	r.record(ctx, Event{Kind: EventBranch, Step: id, Reason: fmt.Sprintf("%s: go to %s", reason, orNext(target))})
	return target
}

func orNext(target string) string {
	if target == "" {
		return "the next step"
	}
	return target
}

// test evaluates a branch's condition and says why.
func (r *run) test(b *journeys.BranchStep) (bool, string) {
	if b.Event != "" && b.Payload != "" {
		if r.events.payloads[eventPayload{b.Event, b.Payload}] {
			return true, fmt.Sprintf("event %s with payload %s received", b.Event, b.Payload)
		}
		return false, fmt.Sprintf("no event %s with payload %s", b.Event, b.Payload)
	}
	if b.Event != "" {
		if r.events.seen[b.Event] {
			return true, fmt.Sprintf("event %s received", b.Event)
		}
		return false, fmt.Sprintf("no event %s", b.Event)
	}
	res := r.sends.steps[b.Step]
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

// finish drains status signals and events that arrived in the meantime,
// so the timeline shows them, and records the outcome.
func (r *run) finish(ctx workflow.Context, outcome Outcome, reason string) {
	r.drain(ctx)
	r.adoptDelivery()
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

// adoptDelivery makes the message in flight the journey's delivery when
// the journey ends (verified, converted) before its attempt saw the
// delivery that a status drained at the end reports: the code was
// verified in the same moment its delivery arrived.
func (r *run) adoptDelivery() {
	key := r.sends.current
	if r.result.Channel != "" || key == "" || !r.sends.statuses[key].Reached(channels.StatusDelivered) {
		return
	}
	r.delivered(key, r.sends.sent[key].channel)
}

// drain takes the status signals and events already received.
func (r *run) drain(ctx workflow.Context) {
	for {
		var u channels.StatusUpdate
		if !r.inbox.statuses.ReceiveAsync(&u) {
			break
		}
		r.receive(ctx, u)
	}
	for {
		var ev journeys.EventInput
		if !r.inbox.events.ReceiveAsync(&ev) {
			break
		}
		r.receiveEvent(ctx, ev)
	}
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
