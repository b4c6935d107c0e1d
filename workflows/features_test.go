package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// sim runs a journey in the test environment with providers that deliver
// every message one second after it is sent, except on the channels listed
// in fail, where the send is refused.
type sim struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	mu    sync.Mutex
	sends []activities.SendRequest
	fail  map[channels.Channel]bool
	// checks plays the store; register another before run to change it.
	checks *fakeChecks
	// events counts the events signalled.
	events int
}

func newSim(t *testing.T, start time.Time) *sim {
	return newSimWith(t, start, testOptions)
}

// newSimWith is newSim on a worker configured by opts.
func newSimWith(t *testing.T, start time.Time, opts Options) *sim {
	var ts testsuite.WorkflowTestSuite
	s := &sim{t: t, env: ts.NewTestWorkflowEnvironment(), start: start, fail: map[channels.Channel]bool{}}
	s.env.SetStartTime(start)
	s.checks = &fakeChecks{window: true}
	Register(s.env, opts)
	s.env.RegisterActivityWithOptions(func(ctx context.Context, req activities.SendRequest) (channels.SendResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sends = append(s.sends, req)
		ch := req.Message.Channel
		if s.fail[ch] {
			return channels.SendResult{}, permanent("131026")
		}
		return channels.SendResult{Provider: provider(ch), MessageID: fmt.Sprintf("id-%d", len(s.sends)), Status: channels.StatusAccepted}, nil
	}, activity.RegisterOptions{Name: activities.SendName})
	s.env.SetOnActivityCompletedListener(func(_ *activity.Info, result converter.EncodedValue, err error) {
		var res channels.SendResult
		if err != nil || result == nil || result.Get(&res) != nil {
			return
		}
		s.env.RegisterDelayedCallback(func() {
			s.env.SignalWorkflow(SignalStatus, channels.StatusUpdate{Provider: res.Provider, MessageID: res.MessageID, Status: channels.StatusDelivered})
		}, time.Second)
	})
	return s
}

// at runs fn after d of journey time.
func (s *sim) at(d time.Duration, fn func()) { s.env.RegisterDelayedCallback(fn, d) }

func (s *sim) event(d time.Duration, name string, vars map[string]string) {
	s.events++
	s.at(d, func() { s.env.SignalWorkflow(SignalEvent, journeys.EventInput{Name: name, Vars: vars}) })
}

// verify checks code at d and keeps the result.
func (s *sim) verify(d time.Duration, code string, got *[]string) {
	s.at(d, func() {
		s.env.UpdateWorkflow(UpdateVerify, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *got = append(*got, "rejected: "+err.Error()) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if r, ok := v.(journeys.VerifyResult); ok {
					*got = append(*got, fmt.Sprintf("verified=%v remaining=%d", r.Verified, r.Remaining))
				}
			},
		}, code)
	})
}

func (s *sim) run(in journeys.Input) (Result, Timeline) {
	s.t.Helper()
	if s.checks != nil {
		s.checks.register(s.env)
	}
	s.env.ExecuteWorkflow(journeys.WorkflowType, in)
	if !s.env.IsWorkflowCompleted() {
		s.t.Fatal("journey did not end")
	}
	var res Result
	if err := s.env.GetWorkflowResult(&res); err != nil {
		s.t.Fatalf("journey error: %v", err)
	}
	v, err := s.env.QueryWorkflow(QueryTimeline)
	if err != nil {
		s.t.Fatal(err)
	}
	var tl Timeline
	if err := v.Get(&tl); err != nil {
		s.t.Fatal(err)
	}
	return res, tl
}

// sent lists the sends as "step/channel@offset".
func (s *sim) sent(tl Timeline) []string {
	var out []string
	for _, ev := range tl.Events {
		if ev.Kind == EventSent {
			out = append(out, fmt.Sprintf("%s/%s@%s", ev.Step, ev.Channel, ev.Time.Sub(s.start)))
		}
	}
	return out
}

func builtin(t *testing.T, name string) journeys.Journey {
	t.Helper()
	j, err := journeys.Builtin(name, testOptions.Channels)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

var morning = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestOTPVerify(t *testing.T) {
	in := journeys.Input{Journey: builtin(t, "otp"), To: "+15551234567", Vars: map[string]string{"code": "493817"}}
	tests := []struct {
		name    string
		setup   func(s *sim, got *[]string)
		outcome Outcome
		checks  []string
		sends   int
	}{
		{"right code", func(s *sim, got *[]string) { s.verify(5*time.Second, "493817", got) },
			OutcomeVerified, []string{"verified=true remaining=4"}, 1},
		{"wrong then right", func(s *sim, got *[]string) {
			s.verify(5*time.Second, "111111", got)
			s.verify(6*time.Second, "493817", got)
		}, OutcomeVerified, []string{"verified=false remaining=4", "verified=true remaining=3"}, 1},
		{"too many wrong codes", func(s *sim, got *[]string) {
			for i := range 6 {
				s.verify(time.Duration(5+i)*time.Second, "000000", got)
			}
		}, OutcomeLocked, []string{"verified=false remaining=4", "verified=false remaining=3", "verified=false remaining=2", "verified=false remaining=1", "verified=false remaining=0"}, 1},
		{"expired", func(s *sim, got *[]string) {}, OutcomeExpired, nil, 1},
		{"verified before delivery cancels the fallback", func(s *sim, got *[]string) {
			s.fail[channels.WhatsApp] = false
			s.env.SetOnActivityCompletedListener(nil) // nothing is ever delivered
			s.verify(10*time.Second, "493817", got)
		}, OutcomeVerified, []string{"verified=true remaining=4"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			var got []string
			tt.setup(s, &got)
			res, tl := s.run(in)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.checks) {
				t.Errorf("checks = %q, want %q", got, tt.checks)
			}
			if len(s.sends) != tt.sends {
				t.Errorf("sends = %d, want %d: %v", len(s.sends), tt.sends, s.sent(tl))
			}
		})
	}
}

func TestOTPFallsBackToEmailWhenKnown(t *testing.T) {
	s := newSim(t, morning)
	s.fail[channels.WhatsApp], s.fail[channels.SMS] = true, true
	var got []string
	s.verify(time.Minute, "493817", &got)
	in := journeys.Input{Journey: builtin(t, "otp"), To: "+15551234567", Email: "ana@example.com", Vars: map[string]string{"code": "493817"}}
	res, tl := s.run(in)
	if res.Outcome != OutcomeVerified || res.Channel != channels.Email {
		t.Errorf("result = %+v, want verified after email", res)
	}
	last := s.sends[len(s.sends)-1].Message
	if last.To != "ana@example.com" || last.Email == nil || last.Email.TemplateID != "d-otp-code" || last.Email.Data["code"] != "493817" {
		t.Errorf("email = %+v %+v", last, last.Email)
	}
	if got := s.sent(tl); fmt.Sprint(got) != "[code/email@0s]" {
		t.Errorf("sent = %v", got)
	}
}

func TestAbandonedCart(t *testing.T) {
	in := journeys.Input{Journey: builtin(t, "abandoned_cart"), To: "+15551234567", Email: "ana@example.com",
		Vars: map[string]string{"cart_url": "https://shop.example/cart/1"}}
	tests := []struct {
		name    string
		start   time.Time
		tz      string
		setup   func(s *sim)
		outcome Outcome
		sent    []string
	}{
		{"two reminders", morning, "", nil, OutcomeDelivered,
			[]string{"first_reminder/whatsapp@1h0m0s", "second_reminder/whatsapp@25h0m1s"}},
		{"order placed during the first wait", morning, "", func(s *sim) { s.event(30*time.Minute, "order_placed", nil) },
			OutcomeConverted, nil},
		{"order placed after the first reminder", morning, "", func(s *sim) { s.event(2*time.Hour, "order_placed", nil) },
			OutcomeConverted, []string{"first_reminder/whatsapp@1h0m0s"}},
		{"whatsapp refused: email", morning, "", func(s *sim) { s.fail[channels.WhatsApp] = true }, OutcomeDelivered,
			[]string{"first_reminder/email@1h0m0s", "second_reminder/email@25h0m1s"}},
		// 20:30 + 1h = 21:30 UTC: quiet until 08:00 the next morning.
		{"quiet hours hold the reminder", time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC), "", nil, OutcomeDelivered,
			[]string{"first_reminder/whatsapp@11h30m0s", "second_reminder/whatsapp@35h30m1s"}},
		// 10:00 UTC is 21:00 in Sydney (UTC+11): held until 08:00 there, 21:00 UTC.
		{"quiet hours in the customer's time zone", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), "Australia/Sydney", nil, OutcomeDelivered,
			[]string{"first_reminder/whatsapp@12h0m0s", "second_reminder/whatsapp@36h0m1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, tt.start)
			if tt.setup != nil {
				tt.setup(s)
			}
			in := in
			in.TimeZone = tt.tz
			res, tl := s.run(in)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if got := s.sent(tl); fmt.Sprint(got) != fmt.Sprint(tt.sent) {
				t.Errorf("sent = %v, want %v", got, tt.sent)
			}
		})
	}
}

func TestOrderUpdate(t *testing.T) {
	in := journeys.Input{Journey: builtin(t, "order_update"), To: "+15551234567", Vars: map[string]string{"order_id": "A-1"}}
	track := map[string]string{"tracking_url": "https://track.example/1"}
	tests := []struct {
		name    string
		events  func(s *sim)
		outcome Outcome
		sent    []string
		ignored []string // reasons of ignored events
	}{
		{"in order", func(s *sim) {
			s.event(time.Minute, "confirmed", nil)
			s.event(time.Hour, "shipped", track)
			s.event(2*time.Hour, "out_for_delivery", nil)
			s.event(3*time.Hour, "delivered", nil)
		}, OutcomeCompleted, []string{"confirmed/whatsapp@1m0s", "shipped/whatsapp@1h0m0s", "out_for_delivery/whatsapp@2h0m0s", "delivered/whatsapp@3h0m0s"}, nil},
		{"duplicated and out of order", func(s *sim) {
			s.event(time.Minute, "shipped", track)
			s.event(2*time.Minute, "shipped", track)
			s.event(3*time.Minute, "confirmed", nil)
			s.event(time.Hour, "delivered", nil)
		}, OutcomeCompleted, []string{"shipped/whatsapp@1m0s", "delivered/whatsapp@1h0m0s"},
			[]string{"ignored: already handled", "ignored: out of order, shipped came first"}},
		{"shipped without a tracking url, then unknown and cancelled", func(s *sim) {
			s.event(time.Minute, "shipped", nil)
			s.event(2*time.Minute, "refunded", nil)
			s.event(3*time.Minute, "cancelled", nil)
		}, OutcomeCompleted, []string{"cancelled/whatsapp@3m0s"}, []string{`ignored: journey "order_update": event "shipped" needs tracking_url`}},
		{"max age", func(s *sim) { s.event(time.Minute, "confirmed", nil) }, OutcomeExpired, []string{"confirmed/whatsapp@1m0s"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			tt.events(s)
			res, tl := s.run(in)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if got := s.sent(tl); fmt.Sprint(got) != fmt.Sprint(tt.sent) {
				t.Errorf("sent = %v, want %v", got, tt.sent)
			}
			var reasons []string
			listed := 0
			for _, ev := range tl.Events {
				if ev.Kind != EventReceived {
					continue
				}
				listed++
				if ev.ReasonClass == store.ClassIgnored {
					reasons = append(reasons, ev.Reason)
				}
			}
			if listed != s.events {
				t.Errorf("timeline lists %d events, want each of the %d once: %+v", listed, s.events, tl.Events)
			}
			if len(reasons) != len(tt.ignored) {
				t.Errorf("ignored reasons = %q, want %d", reasons, len(tt.ignored))
			}
			for _, want := range tt.ignored {
				if !strings.Contains(strings.Join(reasons, "|"), want) {
					t.Errorf("ignored reasons %q lack %q", reasons, want)
				}
			}
			if tt.name == "in order" {
				if shipped := s.sends[1].Message; shipped.Template.ButtonURL[0] != track["tracking_url"] {
					t.Errorf("shipped template = %+v", shipped.Template)
				}
			}
		})
	}
}

func TestWaitBranchExit(t *testing.T) {
	spec := `
name: steps
purpose: utility
params: [name]
steps:
  - send:
      id: hello
      on_failure: continue
      attempts:
        - {channel: whatsapp, template: {name: hello, language: en}}
  - branch: {id: check, step: hello, outcome: failed, then: by_sms}
  - wait: {id: answer, until: reply, timeout: 1h, on_timeout: continue}
  - branch: {id: replied, event: reply, then: thanks, else: bye}
  - send:
      id: by_sms
      attempts: [{channel: sms, text: "hello {{.name}}"}]
  - exit: {id: done_sms}
  - send:
      id: thanks
      attempts: [{channel: sms, text: "thanks"}]
  - exit: {id: converted, outcome: converted}
  - send:
      id: bye
      attempts: [{channel: sms, text: "bye"}]
`
	j, err := journeys.Parse("steps.yaml", []byte(spec), testOptions.Channels)
	if err != nil {
		t.Fatal(err)
	}
	in := journeys.Input{Journey: j, To: "+15551234567", Vars: map[string]string{"name": "Ana"}}
	tests := []struct {
		name    string
		setup   func(s *sim)
		outcome Outcome
		sent    []string
	}{
		{"reply", func(s *sim) { s.event(10*time.Minute, "reply", nil) }, OutcomeConverted, []string{"hello/whatsapp@0s", "thanks/sms@10m0s"}},
		{"no reply", nil, OutcomeDelivered, []string{"hello/whatsapp@0s", "bye/sms@1h0m1s"}},
		{"whatsapp failed", func(s *sim) { s.fail[channels.WhatsApp] = true }, OutcomeCompleted, []string{"by_sms/sms@0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			if tt.setup != nil {
				tt.setup(s)
			}
			res, tl := s.run(in)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if got := s.sent(tl); fmt.Sprint(got) != fmt.Sprint(tt.sent) {
				t.Errorf("sent = %v, want %v", got, tt.sent)
			}
		})
	}
}
