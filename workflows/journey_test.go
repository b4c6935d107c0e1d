package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/webhook"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// testOptions configure the workflow in tests: a worker's contact key,
// the channels and the business number that wa_link links to.
var testOptions = Options{
	ContactKey:     []byte("test contact key"),
	Channels:       channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{}, push.Driver{}, webhook.Driver{}),
	BusinessNumber: "+15550009999",
}

// fakeSends plays the providers for the send activity: per channel, the
// error to return (one per call; nil past the end) and the message id.
type fakeSends struct {
	mu     sync.Mutex
	errs   map[channels.Channel][]error
	calls  []activities.SendRequest
	counts map[channels.Channel]int
}

func (f *fakeSends) send(ctx context.Context, req activities.SendRequest) (channels.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := req.Message.Channel
	if f.counts == nil {
		f.counts = map[channels.Channel]int{}
	}
	n := f.counts[ch]
	f.counts[ch]++
	f.calls = append(f.calls, req)
	if errs := f.errs[ch]; n < len(errs) && errs[n] != nil {
		return channels.SendResult{}, errs[n]
	}
	return channels.SendResult{Provider: provider(ch), MessageID: msgID(ch), Status: channels.StatusAccepted}, nil
}

func provider(ch channels.Channel) string {
	if ch == channels.SMS {
		return "twilio"
	}
	return string(ch)
}

func msgID(ch channels.Channel) string { return "id-" + string(ch) }

func status(ch channels.Channel, s channels.Status) channels.StatusUpdate {
	return channels.StatusUpdate{Provider: provider(ch), MessageID: msgID(ch), Status: s}
}

func permanent(code string) error {
	return temporal.NewNonRetryableApplicationError("refused", activities.SendErrorType, nil,
		activities.SendFailure{Provider: "whatsapp", Code: code, Reason: "refused", Permanent: true})
}

func retryable(code string) error {
	return temporal.NewApplicationError("try later", activities.SendErrorType,
		activities.SendFailure{Provider: "whatsapp", Code: code, Reason: "try later"})
}

type signalAt struct {
	after  time.Duration
	update channels.StatusUpdate
}

type journeyRun struct {
	result   Result
	err      error
	timeline Timeline
	sends    []activities.SendRequest
}

func runJourney(t *testing.T, in journeys.Input, fake *fakeSends, signals []signalAt, cancelAt time.Duration) journeyRun {
	t.Helper()
	return runJourneyWith(t, in, fake, signals, cancelAt, &fakeChecks{window: true})
}

func runJourneyWith(t *testing.T, in journeys.Input, fake *fakeSends, signals []signalAt, cancelAt time.Duration, checks *fakeChecks) journeyRun {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	checks.register(env)
	Register(env, testOptions)
	env.RegisterActivityWithOptions(fake.send, activity.RegisterOptions{Name: activities.SendName})
	for _, s := range signals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStatus, s.update) }, s.after)
	}
	if cancelAt > 0 {
		env.RegisterDelayedCallback(env.CancelWorkflow, cancelAt)
	}
	env.ExecuteWorkflow(journeys.WorkflowType, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var run journeyRun
	run.err = env.GetWorkflowError()
	if run.err == nil {
		if err := env.GetWorkflowResult(&run.result); err != nil {
			t.Fatal(err)
		}
	}
	v, err := env.QueryWorkflow(QueryTimeline)
	if err != nil {
		t.Fatalf("query timeline: %v", err)
	}
	if err := v.Get(&run.timeline); err != nil {
		t.Fatal(err)
	}
	run.sends = fake.calls
	return run
}

// otpInput is the built-in otp journey to a number with no email address.
func otpInput(t *testing.T) journeys.Input {
	t.Helper()
	j, err := journeys.Builtin("otp", testOptions.Channels)
	if err != nil {
		t.Fatal(err)
	}
	return journeys.Input{Journey: j, To: "+15551234567", Vars: map[string]string{"code": "493817"}}
}

// fallbackInput is otp without code verification: the journey ends as
// soon as its send step does, which isolates the fallback state machine.
func fallbackInput(t *testing.T) journeys.Input {
	in := otpInput(t)
	in.Journey.Verify = nil
	return in
}

// attemptStarts returns the offset from the journey's start at which each
// attempt began, by channel, in order.
func attemptStarts(tl Timeline) []string {
	var out []string
	start := tl.Events[0].Time
	for _, ev := range tl.Events {
		if ev.Kind == EventAttempt {
			out = append(out, fmt.Sprintf("%s@%s", ev.Channel, ev.Time.Sub(start)))
		}
	}
	return out
}

func TestJourneyFallback(t *testing.T) {
	wa, sms := channels.WhatsApp, channels.SMS
	tests := []struct {
		name     string
		errs     map[channels.Channel][]error
		signals  []signalAt
		want     Result
		attempts []string // channel@offset of each attempt
		classes  string   // kind:class of each send_failed and fallback event
	}{
		{
			name:     "delivered on whatsapp",
			signals:  []signalAt{{2 * time.Second, status(wa, channels.StatusSent)}, {3 * time.Second, status(wa, channels.StatusDelivered)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: wa, MessageID: msgID(wa), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s"},
			classes:  "",
		},
		{
			name:     "read without delivered counts as delivered",
			signals:  []signalAt{{2 * time.Second, status(wa, channels.StatusRead)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: wa, MessageID: msgID(wa), Status: channels.StatusRead},
			attempts: []string{"whatsapp@0s"},
			classes:  "",
		},
		{
			name: "failed status falls back to sms at once",
			signals: []signalAt{
				{5 * time.Second, status(wa, channels.StatusFailed)},
				{8 * time.Second, status(sms, channels.StatusDelivered)},
			},
			want:     Result{Outcome: OutcomeDelivered, Channel: sms, MessageID: msgID(sms), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s", "sms@5s"},
			classes:  "fallback:failed_status",
		},
		{
			name:     "no status within 30s falls back to sms",
			signals:  []signalAt{{40 * time.Second, status(sms, channels.StatusDelivered)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: sms, MessageID: msgID(sms), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s", "sms@30s"},
			classes:  "fallback:timeout",
		},
		{
			name:     "sent is not enough when delivered is awaited",
			signals:  []signalAt{{time.Second, status(wa, channels.StatusSent)}, {31 * time.Second, status(sms, channels.StatusDelivered)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: sms, MessageID: msgID(sms), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s", "sms@30s"},
			classes:  "fallback:timeout",
		},
		{
			name:     "permanent send error falls back without waiting",
			errs:     map[channels.Channel][]error{wa: {permanent("131047")}},
			signals:  []signalAt{{time.Second, status(sms, channels.StatusDelivered)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: sms, MessageID: msgID(sms), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s", "sms@0s"},
			classes:  "send_failed:rejected fallback:rejected",
		},
		{
			name:     "retryable send error is retried on the same channel",
			errs:     map[channels.Channel][]error{wa: {retryable("130429"), retryable("130429")}},
			signals:  []signalAt{{10 * time.Second, status(wa, channels.StatusDelivered)}},
			want:     Result{Outcome: OutcomeDelivered, Channel: wa, MessageID: msgID(wa), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s"},
			classes:  "",
		},
		{
			name: "delivered then a late failed and duplicates do not move back",
			signals: []signalAt{
				{time.Second, status(wa, channels.StatusDelivered)},
				{time.Second, status(wa, channels.StatusDelivered)},
				{time.Second, status(wa, channels.StatusSent)},
			},
			want:     Result{Outcome: OutcomeDelivered, Channel: wa, MessageID: msgID(wa), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s"},
			classes:  "",
		},
		{
			name: "every channel fails",
			signals: []signalAt{
				{2 * time.Second, status(wa, channels.StatusFailed)},
				{4 * time.Second, status(sms, channels.StatusFailed)},
			},
			want:     Result{Outcome: OutcomeFailed},
			attempts: []string{"whatsapp@0s", "sms@2s"},
			classes:  "fallback:failed_status fallback:failed_status",
		},
		{
			name: "a status for an unknown message is ignored",
			signals: []signalAt{
				{time.Second, channels.StatusUpdate{Provider: "whatsapp", MessageID: "other", Status: channels.StatusDelivered}},
				{2 * time.Second, status(wa, channels.StatusFailed)},
				{3 * time.Second, status(sms, channels.StatusDelivered)},
			},
			want:     Result{Outcome: OutcomeDelivered, Channel: sms, MessageID: msgID(sms), Status: channels.StatusDelivered},
			attempts: []string{"whatsapp@0s", "sms@2s"},
			classes:  "fallback:failed_status",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runJourney(t, fallbackInput(t), &fakeSends{errs: tt.errs}, tt.signals, 0)
			if run.err != nil {
				t.Fatalf("workflow error: %v", run.err)
			}
			if run.result != tt.want {
				t.Errorf("result = %+v, want %+v", run.result, tt.want)
			}
			if got := attemptStarts(run.timeline); fmt.Sprint(got) != fmt.Sprint(tt.attempts) {
				t.Errorf("attempts = %v, want %v", got, tt.attempts)
			}
			if got := classesOf(run.timeline, EventSendFailed, EventFallback); got != tt.classes {
				t.Errorf("reason classes = %q, want %q", got, tt.classes)
			}
			if run.timeline.Outcome != tt.want.Outcome {
				t.Errorf("timeline outcome = %s, want %s", run.timeline.Outcome, tt.want.Outcome)
			}
		})
	}
}

func TestJourneySendsRenderedContentWithCorrelation(t *testing.T) {
	run := runJourney(t, fallbackInput(t), &fakeSends{errs: map[channels.Channel][]error{channels.WhatsApp: {permanent("131026")}}},
		[]signalAt{{time.Second, status(channels.SMS, channels.StatusDelivered)}}, 0)
	if len(run.sends) != 2 {
		t.Fatalf("sends = %d, want 2", len(run.sends))
	}
	wa, sms := run.sends[0].Message, run.sends[1].Message
	if wa.Template == nil || wa.Template.Name != "otp_code" || wa.Template.Body[0] != "493817" || wa.Template.ButtonURL[0] != "493817" {
		t.Errorf("whatsapp message = %+v", wa)
	}
	if sms.Text != "Your verification code is 493817. It expires in 10 minutes." {
		t.Errorf("sms text = %q", sms.Text)
	}
	if wa.Correlation.Attempt != 1 || sms.Correlation.Attempt != 2 || sms.Correlation.WorkflowID == "" {
		t.Errorf("correlations = %+v, %+v", wa.Correlation, sms.Correlation)
	}
	var failed *Event
	for i, ev := range run.timeline.Events {
		if ev.Kind == EventSendFailed {
			failed = &run.timeline.Events[i]
		}
	}
	if failed == nil || failed.Code != "131026" || failed.Channel != channels.WhatsApp {
		t.Errorf("send_failed event = %+v, want code 131026 on whatsapp", failed)
	}
}

func TestJourneyExpires(t *testing.T) {
	in := fallbackInput(t)
	in.Journey.Expire = journeys.Duration(45 * time.Second)
	run := runJourney(t, in, &fakeSends{}, nil, 0)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if run.result.Outcome != OutcomeExpired {
		t.Errorf("outcome = %s, want expired", run.result.Outcome)
	}
	last := run.timeline.Events[len(run.timeline.Events)-1]
	if d := last.Time.Sub(run.timeline.Events[0].Time); last.Kind != EventDone || d != 45*time.Second {
		t.Errorf("last event = %s after %s, want done after 45s", last.Kind, d)
	}
}

func TestJourneyCancel(t *testing.T) {
	run := runJourney(t, otpInput(t), &fakeSends{}, nil, 10*time.Second)
	if !temporal.IsCanceledError(run.err) {
		t.Fatalf("err = %v, want canceled", run.err)
	}
	if run.timeline.Outcome != OutcomeCanceled {
		t.Errorf("timeline outcome = %s, want canceled", run.timeline.Outcome)
	}
	if len(run.sends) != 1 {
		t.Errorf("sends = %d, want 1 (no fallback after cancel)", len(run.sends))
	}
}

func TestJourneyRejectsMissingVars(t *testing.T) {
	in := otpInput(t)
	in.Vars = nil
	run := runJourney(t, in, &fakeSends{}, nil, 0)
	if run.err == nil {
		t.Fatal("want an error for a missing code")
	}
	if len(run.sends) != 0 {
		t.Errorf("sent %d messages without a code", len(run.sends))
	}
}

// A provider may report a status before its API call has returned: the
// journey holds it and applies it once it learns the message id.
func TestJourneyHoldsStatusThatBeatsTheSend(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	(&fakeChecks{window: true}).register(env)
	Register(env, testOptions)
	// The delivered callback lands while the send is still in flight.
	deliverInFlight(env, func(context.Context) { time.Sleep(50 * time.Millisecond) })
	env.ExecuteWorkflow(journeys.WorkflowType, fallbackInput(t))
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeDelivered || res.Channel != channels.WhatsApp {
		t.Errorf("result = %+v, want delivered on whatsapp", res)
	}
	v, err := env.QueryWorkflow(QueryTimeline)
	if err != nil {
		t.Fatal(err)
	}
	var tl Timeline
	if err := v.Get(&tl); err != nil {
		t.Fatal(err)
	}
	// Once the send returned, the held status names its attempt and
	// channel, like any other.
	var held bool
	for _, ev := range tl.Events {
		held = held || (ev.Kind == EventStatus && ev.Status == channels.StatusDelivered && ev.ReasonClass == store.ClassHeld &&
			ev.Channel == channels.WhatsApp && ev.Attempt == 1)
	}
	if !held {
		t.Errorf("timeline has no held delivered status of attempt 1 on whatsapp: %+v", tl.Events)
	}
}

// deliverInFlight registers a send activity that signals its message
// delivered, runs then (if set), and returns the message accepted.
func deliverInFlight(env *testsuite.TestWorkflowEnvironment, then func(context.Context)) {
	env.RegisterActivityWithOptions(func(ctx context.Context, req activities.SendRequest) (channels.SendResult, error) {
		ch := req.Message.Channel
		env.SignalWorkflow(SignalStatus, status(ch, channels.StatusDelivered))
		if then != nil {
			then(ctx)
		}
		return channels.SendResult{Provider: provider(ch), MessageID: msgID(ch), Status: channels.StatusAccepted}, nil
	}, activity.RegisterOptions{Name: activities.SendName})
}

func unknownOutcome() error {
	return temporal.NewNonRetryableApplicationError("no answer", activities.SendErrorType, nil,
		activities.SendFailure{Provider: "whatsapp", Code: "network", Reason: "request written, no answer", Permanent: true, Unknown: true})
}

// A send whose outcome is unknown is not sent again: the journey waits for
// a status that names the attempt, and adopts its message.
func TestJourneyUnknownSendOutcome(t *testing.T) {
	adopted := channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.late", Status: channels.StatusDelivered, Attempt: 1}
	tests := []struct {
		name     string
		signals  []signalAt
		want     Result
		attempts []string
		classes  string // kind:class of each send_failed and fallback event
	}{
		{"a status names the attempt", []signalAt{{5 * time.Second, adopted}},
			Result{Outcome: OutcomeDelivered, Channel: channels.WhatsApp, MessageID: "wamid.late", Status: channels.StatusDelivered}, []string{"whatsapp@0s"},
			"send_failed:unknown_outcome"},
		{"no status: fall back after within", []signalAt{{40 * time.Second, status(channels.SMS, channels.StatusDelivered)}},
			Result{Outcome: OutcomeDelivered, Channel: channels.SMS, MessageID: msgID(channels.SMS), Status: channels.StatusDelivered}, []string{"whatsapp@0s", "sms@30s"},
			"send_failed:unknown_outcome fallback:timeout"},
		{"a status naming another attempt is not adopted", []signalAt{
			{5 * time.Second, channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.other", Status: channels.StatusDelivered, Attempt: 7}},
			{31 * time.Second, status(channels.SMS, channels.StatusDelivered)}},
			Result{Outcome: OutcomeDelivered, Channel: channels.SMS, MessageID: msgID(channels.SMS), Status: channels.StatusDelivered}, []string{"whatsapp@0s", "sms@30s"},
			"send_failed:unknown_outcome fallback:timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSends{errs: map[channels.Channel][]error{channels.WhatsApp: {unknownOutcome()}}}
			run := runJourney(t, fallbackInput(t), fake, tt.signals, 0)
			if run.err != nil {
				t.Fatal(run.err)
			}
			if run.result != tt.want {
				t.Errorf("result = %+v, want %+v", run.result, tt.want)
			}
			if got := attemptStarts(run.timeline); fmt.Sprint(got) != fmt.Sprint(tt.attempts) {
				t.Errorf("attempts = %v, want %v", got, tt.attempts)
			}
			if got := classesOf(run.timeline, EventSendFailed, EventFallback); got != tt.classes {
				t.Errorf("reason classes = %q, want %q", got, tt.classes)
			}
			if n := fake.counts[channels.WhatsApp]; n != 1 {
				t.Errorf("whatsapp sends = %d, want 1 (never re-sent)", n)
			}
		})
	}
}

// A status that names the attempt but no message id (an email bounced
// before SendGrid numbered it) applies to the attempt's message.
func TestJourneyStatusWithoutMessageID(t *testing.T) {
	run := runJourney(t, fallbackInput(t), &fakeSends{}, []signalAt{
		{time.Second, channels.StatusUpdate{Provider: "whatsapp", Status: channels.StatusFailed, Attempt: 1, ErrorCode: "131026"}},
		{2 * time.Second, status(channels.SMS, channels.StatusDelivered)},
	}, 0)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if got := attemptStarts(run.timeline); fmt.Sprint(got) != "[whatsapp@0s sms@1s]" {
		t.Errorf("attempts = %v, want whatsapp then sms after the failed status", got)
	}
}

// A channel without a rate limit sends on the journeys' own task queue,
// where the server can hand the send to the worker that scheduled it;
// another channel keeps its own queue, whose rate Temporal enforces.
func TestJourneySendQueue(t *testing.T) {
	for _, tt := range []struct {
		unlimited []channels.Channel
		want      string
	}{
		{nil, journeys.ActivityTaskQueue(channels.WhatsApp)},
		{[]channels.Channel{channels.SMS}, journeys.ActivityTaskQueue(channels.WhatsApp)},
		{[]channels.Channel{channels.WhatsApp}, journeys.TaskQueue},
	} {
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestWorkflowEnvironment()
		(&fakeChecks{window: true}).register(env)
		opts := testOptions
		opts.Unlimited = tt.unlimited
		Register(env, opts)
		var queues []string
		deliverInFlight(env, func(ctx context.Context) { queues = append(queues, activity.GetInfo(ctx).TaskQueue) })
		env.ExecuteWorkflow(journeys.WorkflowType, fallbackInput(t))
		var res Result
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if res.Channel != channels.WhatsApp || len(queues) != 1 || queues[0] != tt.want {
			t.Errorf("unlimited %v: delivered on %q, sends on queues %v, want one on %s", tt.unlimited, res.Channel, queues, tt.want)
		}
	}
}
