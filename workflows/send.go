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

// sendStatusChange versions taking the status a provider answered a send
// with (not only accepted).
const sendStatusChange = "send-result-status"

// windowClosedTemplate starts the timeline reason of a session attempt
// that sends its template because the 24-hour window is closed.
const windowClosedTemplate = "24-hour window closed, template sent instead"

// stepResult is how a send step ended.
type stepResult struct {
	outcome journeys.StepOutcome
	channel channels.Channel
	reasons []string // why each attempt was skipped, when all were
}

// stepBlocked is the outcome of a send step whose every attempt was skipped.
const stepBlocked journeys.StepOutcome = "blocked"

// sendStep runs one send step: each attempt in order until one reaches its
// awaited status. A step whose every attempt fails ends the journey as
// failed, unless the step says on_failure: continue.
func (r *run) sendStep(ctx workflow.Context, step string, s *journeys.SendStep) error {
	res, err := r.attempts(ctx, step, s)
	if err != nil {
		return err
	}
	r.sends.steps[step], r.sends.last = res, res
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

// attemptKind is how one attempt ended: a transition of the fallback
// state machine (DESIGN.md, "What a send does").
type attemptKind int

const (
	// attemptReached: the message reached its awaited status; the step is done.
	attemptReached attemptKind = iota
	// attemptFellBack: the provider reported the message failed, or no
	// status came in time; the next attempt starts.
	attemptFellBack
	// attemptNotSent: the message did not render, or the provider refused
	// it; the next attempt starts, and the step's result stays what the
	// attempts before made it.
	attemptNotSent
	// attemptSkipped: eligibility refused the attempt.
	attemptSkipped
	// attemptDeferred: the channel did not reach the contact last time; the
	// attempt goes after the step's others.
	attemptDeferred
)

// attemptOutcome is how one attempt ended and what the step learns.
type attemptOutcome struct {
	kind   attemptKind
	result stepResult // attemptReached, attemptFellBack
	reason string     // attemptSkipped: "channel: why"
}

func reached(outcome journeys.StepOutcome, ch channels.Channel) attemptOutcome {
	return attemptOutcome{kind: attemptReached, result: stepResult{outcome: outcome, channel: ch}}
}

func fellBack(outcome journeys.StepOutcome, ch channels.Channel) attemptOutcome {
	return attemptOutcome{kind: attemptFellBack, result: stepResult{outcome: outcome, channel: ch}}
}

// attempts tries the step's attempts in order until one reaches its awaited
// status. Attempts on a channel where the contact was unreachable last time
// (not on WhatsApp, say) go after the others: later journeys try the
// channel that works first, until the contact writes on it again.
func (r *run) attempts(ctx workflow.Context, step string, s *journeys.SendStep) (stepResult, error) {
	failed := stepResult{outcome: journeys.StepFailed}
	var skipped []string
	queue := slices.Clone(s.Attempts)
	deferred := 0
	for i := 0; i < len(queue); i++ {
		canDefer := i < len(s.Attempts) && i < len(queue)-1
		out, err := r.attempt(ctx, step, queue[i], canDefer)
		if err != nil {
			return stepResult{}, err
		}
		switch out.kind {
		case attemptReached:
			return out.result, nil
		case attemptFellBack:
			failed = out.result
		case attemptSkipped:
			skipped = append(skipped, out.reason)
		case attemptDeferred:
			queue = append(queue, queue[i])
			deferred++
		}
	}
	if len(skipped) == len(queue)-deferred {
		return stepResult{outcome: stepBlocked, reasons: skipped}, nil
	}
	return failed, nil
}

// try is one attempt under way.
type try struct {
	spec journeys.Attempt
	ev   Event  // its timeline event so far
	to   string // its address: a number or an email
	// device marks a channel of AddressDevice, and devices are its tokens.
	device  bool
	devices []string
	el      activities.Eligibility
	// start and limit bound the attempt: its within, or the journey's
	// expire when that comes first (expiring).
	start, limit time.Time
	expiring     bool
	// templateInstead: the 24-hour window is closed, and the attempt's
	// template goes instead of its session text.
	templateInstead bool
}

// attempt runs one attempt: eligibility, then send, then await.
func (r *run) attempt(ctx workflow.Context, step string, a journeys.Attempt, canDefer bool) (attemptOutcome, error) {
	r.sends.attempt++
	t := &try{spec: a, ev: Event{Step: step, Attempt: r.sends.attempt, Channel: a.Channel}}
	r.check(ctx, t, canDefer)
	switch {
	case !t.el.Allowed:
		r.skip(ctx, t.ev, why{t.el.Class.OrOther(), t.el.Reason})
		return attemptOutcome{kind: attemptSkipped, reason: fmt.Sprintf("%s: %s", a.Channel, t.el.Reason)}, nil
	case t.el.Unreachable != "" && canDefer:
		r.record(ctx, withReason(t.ev, EventDeferred, why{store.ClassUnreachable,
			"unreachable here last time (" + t.el.Unreachable + "): trying the other channels first"}))
		return attemptOutcome{kind: attemptDeferred}, nil
	}
	if err := r.holdForQuietHours(ctx, t.ev); err != nil {
		return attemptOutcome{}, err
	}
	if err := r.bound(ctx, t); err != nil {
		return attemptOutcome{}, err
	}
	return r.send(ctx, t)
}

// check sets the attempt's address and eligibility; an attempt without
// an address is not eligible.
func (r *run) check(ctx workflow.Context, t *try, canDefer bool) {
	noAddress := activities.Eligibility{Reason: fmt.Sprintf("no %s address for this contact", t.spec.Channel), Class: store.ClassNoAddress}
	if !r.address(t) {
		t.el = noAddress
		return
	}
	t.el = r.eligible(ctx, t.spec, canDefer)
	if t.device && len(t.devices) == 0 {
		// No tokens in the input: those the contact store keeps.
		if t.devices = t.el.Devices; len(t.devices) == 0 && t.el.Allowed {
			t.el = noAddress
		}
	}
}

// address sets the contact's address for the attempt, of the kind its
// channel's driver says: the journey's number, email or device tokens, or
// none for a channel whose attempt names where it goes. It reports false
// when the journey has no such address.
func (r *run) address(t *try) bool {
	d, ok := r.cfg.channels.Lookup(t.spec.Channel)
	if !ok {
		return r.in.To != ""
	}
	switch d.Address() {
	case channels.AddressEmail:
		t.to = r.in.Email
	case channels.AddressDevice:
		t.device, t.devices = true, r.in.PushTokens
		// Without tokens in the input, eligibility gives the contact's.
		return len(t.devices) > 0 || r.exec.checks
	case channels.AddressNone:
		return true
	default:
		t.to = r.in.To
	}
	return t.to != ""
}

// bound sets the time the attempt has, from now; an *ending when the
// journey's expire has passed.
func (r *run) bound(ctx workflow.Context, t *try) error {
	t.start = workflow.Now(ctx)
	t.limit = t.start.Add(t.spec.WithinOrDefault())
	if d := r.exec.deadline; !d.IsZero() && !d.After(t.limit) {
		t.limit, t.expiring = d, true
	}
	if !t.limit.After(t.start) {
		return errExpired()
	}
	return nil
}

// send renders and sends the attempt's message, then awaits its status.
func (r *run) send(ctx workflow.Context, t *try) (attemptOutcome, error) {
	msg, err := r.compose(ctx, t)
	if err != nil {
		r.fallback(ctx, t.ev, "", why{store.ClassRenderFailed, err.Error()})
		return attemptOutcome{kind: attemptNotSent}, nil
	}
	r.record(ctx, withReason(t.ev, EventAttempt, r.attemptWhy(t, msg)))
	r.setChannel(ctx, t.spec.Channel)
	sent, err := r.sendMessage(ctx, t.limit, activities.SendRequest{Journey: r.in.Journey.Name, Step: t.ev.Step, Message: msg, Contact: r.in.To,
		Await: t.spec.AwaitOrDefault()})
	if err != nil {
		return r.sendFailed(ctx, t, msg, err)
	}
	key := r.accepted(ctx, t, msg, sent)
	return r.awaitSent(ctx, t, key)
}

// compose renders the attempt's message. A session message (text,
// interactive or media) with a template to fall back on sends the
// template only when the 24-hour window is closed (t.templateInstead).
func (r *run) compose(ctx workflow.Context, t *try) (channels.Message, error) {
	msg, err := t.spec.Render(t.to, r.vars, r.cfg.render)
	if err != nil {
		return msg, err
	}
	msg.Devices = t.devices
	if msg.Template != nil && (msg.Text != "" || msg.Interactive != nil || msg.Media != nil) {
		if t.el.UseTemplate {
			msg.Text, msg.Interactive, msg.Media, t.templateInstead = "", nil, nil, true
		} else {
			msg.Template = nil
		}
	}
	msg.Journey, msg.Step = r.in.Journey.Name, t.ev.Step
	msg.Correlation = channels.Correlation{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Attempt: t.ev.Attempt}
	return msg, nil
}

// attemptWhy is the reason of an attempt's timeline event: what it sends
// and awaits, and whether the template goes instead of the text.
func (r *run) attemptWhy(t *try, msg channels.Message) why {
	text := fmt.Sprintf("%s, awaiting %s within %s", r.describe(t, msg), t.spec.AwaitOrDefault(), t.limit.Sub(t.start))
	if t.templateInstead {
		return why{store.ClassTemplateInstead, windowClosedTemplate + ": " + text}
	}
	return why{text: text}
}

// setChannel sets SwitchbackChannel to the channel of the attempt in flight.
func (r *run) setChannel(ctx workflow.Context, ch channels.Channel) {
	if !r.exec.fewerWrites || ch != r.sends.channel {
		r.upsert(ctx, journeys.ChannelAttr.ValueSet(string(ch)))
		r.sends.channel = ch
	}
}

// sendFailed handles a send that returned no message: the journey ended
// meanwhile (the error again), the outcome is unknown (wait for a status
// naming the attempt), or the provider refused it (fall back).
func (r *run) sendFailed(ctx workflow.Context, t *try, msg channels.Message, err error) (attemptOutcome, error) {
	var end *ending
	if temporal.IsCanceledError(err) || errors.As(err, &end) {
		return attemptOutcome{}, err
	}
	code, w := failure(err)
	t.ev.Code = code
	if w.class == store.ClassUnknownOutcome {
		return r.awaitUnknown(ctx, t, w)
	}
	r.record(ctx, withReason(t.ev, EventSendFailed, w))
	r.note(withReason(t.ev, EventSendFailed, w), store.EventFailed, templateName(msg))
	if t.expiring && !workflow.Now(ctx).Before(t.limit) {
		return attemptOutcome{}, errExpired()
	}
	r.fallback(ctx, t.ev, code, why{w.class, "send failed: " + w.text})
	return attemptOutcome{kind: attemptNotSent}, nil
}

// awaitUnknown waits, for a send whose outcome is unknown, for a status
// that names the attempt rather than send again: the provider may have the
// message.
func (r *run) awaitUnknown(ctx workflow.Context, t *try, w why) (attemptOutcome, error) {
	w.text += "; outcome unknown, waiting for a status"
	r.record(ctx, withReason(t.ev, EventSendFailed, w))
	key, err := r.adoptByAttempt(ctx, t.ev.Attempt, t.ev.Step, t.spec.Channel, t.limit)
	if err != nil {
		return attemptOutcome{}, err
	}
	if key == "" {
		r.fallback(ctx, t.ev, t.ev.Code, why{store.ClassTimeout, fmt.Sprintf("no status for the attempt within %s", t.limit.Sub(t.start))})
		return fellBack(journeys.StepNoAnswer, t.spec.Channel), nil
	}
	return r.awaitSent(ctx, t, key)
}

// accepted records the message the provider accepted for the attempt and
// returns its key.
func (r *run) accepted(ctx workflow.Context, t *try, msg channels.Message, sent channels.SendResult) string {
	t.ev.Provider, t.ev.MessageID = sent.Provider, sent.MessageID
	key := messageKey(sent.Provider, sent.MessageID)
	r.sends.current = key
	r.remember(key, sentMessage{attempt: t.ev.Attempt, step: t.ev.Step, channel: t.spec.Channel,
		template: templateName(msg), provider: sent.Provider, id: sent.MessageID})
	r.record(ctx, withReason(t.ev, EventSent, why{text: "accepted by " + sent.Provider}))
	r.advance(key, channels.StatusAccepted)
	// A provider may answer with a later status: a webhook's 2xx is its
	// delivery. Journeys started before keep to accepted.
	if sent.Status != channels.StatusFailed && r.changed(ctx, sendStatusChange) {
		r.advance(key, sent.Status)
	}
	return key
}

// awaitSent waits for the status of a sent message: the attempt reached
// its awaited status, or fell back (failed, or silent until its limit).
func (r *run) awaitSent(ctx workflow.Context, t *try, key string) (attemptOutcome, error) {
	want := t.spec.AwaitOrDefault()
	res, err := r.await(ctx, key, want, t.limit)
	if err != nil {
		return attemptOutcome{}, err
	}
	ch := t.spec.Channel
	switch res {
	case awaitReached:
		return reached(r.delivered(key, ch), ch), nil
	case awaitFailed:
		r.fallback(ctx, t.ev, "", why{store.ClassFailedStatus, fmt.Sprintf("%s reported the message failed", r.sends.sent[key].provider)})
		return fellBack(journeys.StepFailed, ch), nil
	}
	r.fallback(ctx, t.ev, "", why{store.ClassTimeout, fmt.Sprintf("no %s status within %s", want, t.limit.Sub(t.start))})
	return fellBack(journeys.StepNoAnswer, ch), nil
}

// delivered makes the message the journey's delivery and returns the
// step outcome its status means.
func (r *run) delivered(key string, ch channels.Channel) journeys.StepOutcome {
	status := r.sends.statuses[key]
	r.result = Result{Channel: ch, MessageID: r.sends.sent[key].id, Status: status}
	delivery := r.result
	r.timeline.Delivery = &delivery
	if status == channels.StatusRead {
		return journeys.StepRead
	}
	return journeys.StepDelivered
}

// sendMessage runs the send activity, taking status signals and events
// while it runs: a provider may report a status before its API call has
// returned. If the journey ends meanwhile, the activity is cancelled.
func (r *run) sendMessage(ctx workflow.Context, limit time.Time, req activities.SendRequest) (channels.SendResult, error) {
	budget := limit.Sub(workflow.Now(ctx))
	actx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
		TaskQueue:              r.cfg.sendQueue(req.Message.Channel),
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

// skip records an attempt that is not made, and why.
func (r *run) skip(ctx workflow.Context, ev Event, w why) {
	ev = withReason(ev, EventSkipped, w)
	ev.Time = workflow.Now(ctx).UTC()
	r.record(ctx, ev)
	r.note(ev, store.EventSkipped, "")
}

// fallback records an attempt that gave way to the next, and why.
func (r *run) fallback(ctx workflow.Context, ev Event, code string, w why) {
	ev.Code = code
	ev = withReason(ev, EventFallback, w)
	ev.Time = workflow.Now(ctx).UTC()
	r.record(ctx, ev)
	r.note(ev, store.EventFallback, "")
}

// why is an event's reason: its class, and its text for people.
type why struct {
	class store.ReasonClass
	text  string
}

// withReason returns ev as an event of kind, for w.
func withReason(ev Event, kind EventKind, w why) Event {
	ev.Kind, ev.Reason, ev.ReasonClass = kind, w.text, w.class
	return ev
}

// describe says what an attempt's message is, without its content (which
// may be a code): the template or form it sends, else what its channel's
// driver says of it.
func (r *run) describe(t *try, m channels.Message) string {
	switch {
	case m.Template != nil:
		return fmt.Sprintf("template %s (%s)", m.Template.Name, m.Template.Language)
	case m.Email != nil && m.Email.TemplateID != "":
		return "email template " + m.Email.TemplateID
	case m.Email != nil:
		return "email"
	case m.Channel == channels.WhatsApp:
		return "session message"
	case m.Text != "":
		return "text message"
	}
	if _, c, err := t.spec.Content(r.cfg.channels); err == nil {
		return c.Describe()
	}
	return string(m.Channel) + " message"
}

// failure extracts the provider's code and the reason from a send
// activity error: ClassUnknownOutcome when the provider may have the
// message, ClassRejected when it refused it for good, else ClassSendError.
func failure(err error) (string, why) {
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &appErr) && appErr.Type() == activities.SendErrorType {
		var f activities.SendFailure
		if appErr.HasDetails() && appErr.Details(&f) == nil {
			kind, class := "retryable", store.ClassSendError
			if f.Permanent {
				kind, class = "permanent", store.ClassRejected
			}
			if f.Unknown {
				class = store.ClassUnknownOutcome
			}
			text := fmt.Sprintf("%s error %s from %s: %s", kind, f.Code, f.Provider, f.Reason)
			if errors.As(err, &timeoutErr) {
				text = "gave up retrying within the attempt's time; last " + text
			}
			return f.Code, why{class, text}
		}
	}
	if errors.As(err, &timeoutErr) {
		return "timeout", why{store.ClassSendError, fmt.Sprintf("provider not reached in time (%s timeout)", timeoutErr.TimeoutType())}
	}
	return "", why{store.ClassSendError, err.Error()}
}
