package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// fakeChecks plays the store for the eligibility check and the event log.
type fakeChecks struct {
	mu     sync.Mutex
	deny   map[channels.Channel]activities.Eligibility // channel → the refusal
	window bool                                        // the 24-hour window is open
	// unreachable: channel → what the last outcome there said.
	unreachable map[channels.Channel]string
	events      []store.MessageEvent
	reqs        []activities.EligibilityRequest // the checks asked, in order
}

func (f *fakeChecks) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, req activities.EligibilityRequest) (activities.Eligibility, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reqs = append(f.reqs, req)
		if el, ok := f.deny[req.Channel]; ok {
			return el, nil
		}
		if req.Session && !f.window {
			if req.HasTemplate {
				return activities.Eligibility{Allowed: true, UseTemplate: true, Reason: activities.ReasonWindowClosedTemplate, Class: store.ClassTemplateInstead}, nil
			}
			return activities.Eligibility{Reason: activities.ReasonWindowClosed, Class: store.ClassWindowClosed}, nil
		}
		return activities.Eligibility{Allowed: true, Unreachable: f.unreachable[req.Channel]}, nil
	}, activity.RegisterOptions{Name: activities.CheckEligibilityName})
	env.RegisterActivityWithOptions(func(_ context.Context, reqs []activities.EventRequest) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, r := range reqs {
			f.events = append(f.events, r.Event)
		}
		return nil
	}, activity.RegisterOptions{Name: activities.RecordEventsName})
}

func (f *fakeChecks) log() string {
	var out []string
	for _, e := range f.events {
		entry := fmt.Sprintf("%d:%s:%s", e.Attempt, e.Channel, e.Status)
		if e.PricingCategory != "" {
			entry += ":" + e.PricingCategory
		}
		out = append(out, entry)
	}
	return strings.Join(out, " ")
}

// noConsent and suppressed are refusals, as the eligibility check words them.
var noConsent = activities.Eligibility{Reason: activities.ReasonNoMarketingConsent, Class: store.ClassNoConsent}

func suppressed(why store.SuppressionReason) activities.Eligibility {
	return activities.Eligibility{Reason: activities.ReasonSuppressedPrefix + string(why), Class: store.ClassSuppressed}
}

// classesOf lists "kind:class" of the timeline's events of the kinds given.
func classesOf(tl Timeline, kinds ...EventKind) string {
	var out []string
	for _, e := range tl.Events {
		if slices.Contains(kinds, e.Kind) {
			out = append(out, string(e.Kind)+":"+string(e.ReasonClass))
		}
	}
	return strings.Join(out, " ")
}

func TestEligibility(t *testing.T) {
	reply := `
name: support
purpose: utility
params: [text]
steps:
  - send:
      id: answer
      attempts:
        - {channel: whatsapp, session: "{{.text}}", template: {name: support_reply, language: en, body: ["{{.text}}"]}}
        - {channel: sms, text: "{{.text}}"}
`
	j, err := journeys.Parse("support.yaml", []byte(reply), testOptions.Channels)
	if err != nil {
		t.Fatal(err)
	}
	in := journeys.Input{Journey: j, To: "+15551234567", Vars: map[string]string{"text": "We refunded you."}}
	tests := []struct {
		name    string
		checks  *fakeChecks
		outcome Outcome
		sent    string // what went on WhatsApp: session, template or nothing
		log     string
		skipWhy string // in the timeline: why an attempt was skipped, or changed
		// classes are the reason classes of the timeline's skipped and
		// attempt events, in order.
		classes string
	}{
		{"window open: session text", &fakeChecks{window: true}, OutcomeDelivered, "session", "1:whatsapp:delivered", "", "attempt:"},
		{"window closed: the template instead", &fakeChecks{}, OutcomeDelivered, "template", "1:whatsapp:delivered",
			"24-hour window closed, template sent instead: template support_reply (en)", "attempt:template_instead"},
		{"suppressed on whatsapp: sms", &fakeChecks{deny: map[channels.Channel]activities.Eligibility{channels.WhatsApp: suppressed("opt-out keyword")}},
			OutcomeDelivered, "", "1:whatsapp:skipped 2:sms:delivered", "suppressed: opt-out keyword", "skipped:suppressed attempt:"},
		{"every attempt skipped: blocked", &fakeChecks{deny: map[channels.Channel]activities.Eligibility{channels.WhatsApp: noConsent, channels.SMS: suppressed("invalid number")}},
			OutcomeBlocked, "", "1:whatsapp:skipped 2:sms:skipped", "no_marketing_consent", "skipped:no_consent skipped:suppressed"},
		{"frequency capped on whatsapp: sms", &fakeChecks{deny: map[channels.Channel]activities.Eligibility{channels.WhatsApp: activities.Capped(journeys.Utility, channels.WhatsApp, store.CapLimit{Sends: 2, Window: 7 * 24 * time.Hour})}},
			OutcomeDelivered, "", "1:whatsapp:skipped 2:sms:delivered", "frequency capped: 2 utility sends on whatsapp within 7d", "skipped:frequency_capped attempt:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			s.checks = tt.checks
			res, tl := s.run(in)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			var sent string
			for _, req := range s.sends {
				if req.Message.Channel != channels.WhatsApp {
					continue
				}
				switch m := req.Message; {
				case m.Template != nil && m.Text == "":
					sent = "template"
				case m.Template == nil && m.Text != "":
					sent = "session"
				default:
					sent = "both"
				}
			}
			if sent != tt.sent {
				t.Errorf("whatsapp sent %q, want %q", sent, tt.sent)
			}
			if got := tt.checks.log(); got != tt.log {
				t.Errorf("event log = %q, want %q", got, tt.log)
			}
			if tt.skipWhy != "" && !strings.Contains(fmt.Sprint(tl.Events), tt.skipWhy) {
				t.Errorf("timeline lacks skip reason %q", tt.skipWhy)
			}
			if got := classesOf(tl, EventSkipped, EventAttempt); got != tt.classes {
				t.Errorf("reason classes = %q, want %q", got, tt.classes)
			}
		})
	}
}

// Each eligibility check names its attempt (the reservation of a
// frequency cap) and says whether an unreachable channel would be
// deferred: only when another attempt is left to go first.
func TestEligibilityRequestNamesAttempt(t *testing.T) {
	in := journeys.Input{Journey: builtin(t, "otp"), To: "+15551234567", Email: "ana@example.com", Vars: map[string]string{"code": "493817"}}
	in.Journey.Verify = nil
	s := newSim(t, morning)
	s.fail[channels.WhatsApp], s.fail[channels.SMS] = true, true
	s.checks = &fakeChecks{window: true}
	s.run(in)
	var got []string
	for _, r := range s.checks.reqs {
		if r.WorkflowID == "" {
			t.Errorf("attempt %d: no workflow id", r.Attempt)
		}
		got = append(got, fmt.Sprintf("%d:%s:%v", r.Attempt, r.Channel, r.MayDefer))
	}
	if want := "[1:whatsapp:true 2:sms:true 3:email:false]"; fmt.Sprint(got) != want {
		t.Errorf("eligibility requests = %v, want %s", got, want)
	}
}

// The message event log holds every status, failed send and fallback the
// journey saw, once each.
func TestEventLogMatchesTimeline(t *testing.T) {
	f := &fakeChecks{}
	run := runJourneyWith(t, fallbackInput(t), &fakeSends{errs: map[channels.Channel][]error{channels.WhatsApp: {permanent("131047")}}},
		[]signalAt{
			{time.Second, status(channels.SMS, channels.StatusSent)},
			{2 * time.Second, priced(status(channels.SMS, channels.StatusDelivered), "utility")},
			{3 * time.Second, status(channels.SMS, channels.StatusDelivered)},
		}, 0, f)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if got, want := f.log(), "1:whatsapp:failed 1:whatsapp:fallback 2:sms:sent 2:sms:delivered:utility"; got != want {
		t.Errorf("event log = %q, want %q", got, want)
	}
}

func priced(u channels.StatusUpdate, category string) channels.StatusUpdate {
	u.PricingCategory = category
	return u
}

// A channel where the contact was unreachable last time goes last.
func TestUnreachableChannelGoesLast(t *testing.T) {
	in := journeys.Input{Journey: builtin(t, "otp"), To: "+15551234567", Vars: map[string]string{"code": "493817"}}
	in.Journey.Verify = nil
	tests := []struct {
		name string
		fail map[channels.Channel]bool
		sent string
	}{
		{"sms first", nil, "[code/sms@0s]"},
		{"whatsapp still tried when sms fails", map[channels.Channel]bool{channels.SMS: true}, "[code/whatsapp@0s]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			for ch, f := range tt.fail {
				s.fail[ch] = f
			}
			s.checks = &fakeChecks{window: true, unreachable: map[channels.Channel]string{channels.WhatsApp: "131026: Message undeliverable"}}
			res, tl := s.run(in)
			if res.Outcome != OutcomeDelivered {
				t.Errorf("outcome = %s", res.Outcome)
			}
			if got := fmt.Sprint(s.sent(tl)); got != tt.sent {
				t.Errorf("sent = %s, want %s", got, tt.sent)
			}
			// The whatsapp attempt is deferred, not skipped: nothing in the
			// event log, and its own kind and class in the timeline.
			if got := classesOf(tl, EventDeferred); got != "deferred:unreachable_last_time" {
				t.Errorf("deferrals = %q, want one", got)
			}
			if got := s.checks.log(); strings.Contains(got, "whatsapp:skipped") {
				t.Errorf("event log = %q, want no whatsapp skip", got)
			}
		})
	}
}
