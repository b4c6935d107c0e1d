package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// reply signals an inbound reply at d, as the webhooks do: the chosen
// button or row in its payload.
func (s *sim) reply(d time.Duration, id, text, payload string) {
	s.events++
	s.at(d, func() {
		s.env.SignalWorkflow(SignalEvent, journeys.EventInput{Name: "reply", ID: id,
			Vars: map[string]string{"text": text, journeys.PayloadVar: payload, "kind": "list_reply"}})
	})
}

// The support_menu built-in, in journey time: the customer writes, gets
// the menu as a list, and the branch of the row they pick answers; a
// message that picks nothing gets a nudge and the menu's wait again.
func TestSupportMenu(t *testing.T) {
	tests := []struct {
		name    string
		replies func(s *sim)
		sent    string
		branch  string // the reason of the branch taken
		outcome Outcome
	}{
		{"opening hours", func(s *sim) {
			s.reply(time.Minute, "m1", "Hi", "")
			s.reply(3*time.Minute, "m2", "Opening hours", "opening_hours")
		}, "[menu/whatsapp@1m0s hours/whatsapp@3m0s]", "event reply with payload opening_hours received: go to hours", OutcomeCompleted},
		{"track, after a nudge", func(s *sim) {
			s.reply(time.Minute, "m1", "Hi", "")
			s.reply(2*time.Minute, "m2", "where is my parcel??", "")
			s.reply(2*time.Minute+time.Second, "m2", "where is my parcel??", "") // a redelivered webhook
			s.reply(4*time.Minute, "m3", "Track my order", "track_order")
		}, "[menu/whatsapp@1m0s nudge/whatsapp@2m0s track/whatsapp@4m0s]", "event reply with payload track_order received: go to track", OutcomeCompleted},
		{"no choice", func(s *sim) { s.reply(time.Minute, "m1", "Hi", "") }, "[menu/whatsapp@1m0s]", "", OutcomeCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			tt.replies(s)
			res, tl := s.run(journeys.Input{Journey: builtin(t, "support_menu"), To: "+15551234567"})
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			if got := fmt.Sprint(s.sent(tl)); got != tt.sent {
				t.Errorf("sent %s, want %s", got, tt.sent)
			}
			menu := s.sends[0].Message
			if menu.Interactive == nil || menu.Interactive.Kind != channels.InteractiveList || menu.Text != "" {
				t.Errorf("menu = %+v, want a list session message", menu)
			}
			var branches []string
			for _, ev := range tl.Events {
				if ev.Kind == EventBranch {
					branches = append(branches, ev.Reason)
				}
			}
			if tt.branch != "" && !strings.Contains(strings.Join(branches, "\n"), tt.branch) {
				t.Errorf("branches %q lack %q", branches, tt.branch)
			}
		})
	}
}

// A wait until an event that an earlier wait took waits for the next one.
func TestWaitUntilTakesEachEventOnce(t *testing.T) {
	j := journeys.Journey{Name: "twice", Purpose: journeys.Utility, Steps: []journeys.Step{
		{Wait: &journeys.WaitStep{ID: "first", Until: "ping", Timeout: journeys.Duration(time.Hour)}},
		{Wait: &journeys.WaitStep{ID: "second", Until: "ping", Timeout: journeys.Duration(time.Hour), OnTimeout: "exit"}},
		{Send: &journeys.SendStep{ID: "done", Attempts: []journeys.Attempt{{Channel: channels.SMS, Fields: channels.Fields{"text": "pong"}}}}},
	}}
	s := newSim(t, morning)
	s.event(time.Minute, "ping", nil)
	s.event(10*time.Minute, "ping", nil)
	_, tl := s.run(journeys.Input{Journey: j, To: "+15551234567"})
	if got := fmt.Sprint(s.sent(tl)); got != "[done/sms@10m0s]" {
		t.Errorf("sent %s, want the send after the second ping", got)
	}
}

// Reply buttons with a template: the buttons inside the 24-hour window,
// the template alone when it is closed.
func TestSessionButtonsOrTemplate(t *testing.T) {
	attempt := journeys.Attempt{Channel: channels.WhatsApp, Fields: channels.Fields{
		"session":  map[string]any{"text": "Where should it go?", "buttons": []any{map[string]any{"id": "home", "title": "Home"}}},
		"template": map[string]any{"name": "delivery_choice", "language": "en_US"},
	}}
	j := journeys.Journey{Name: "choice", Purpose: journeys.Utility, Steps: []journeys.Step{
		{Send: &journeys.SendStep{ID: "ask", Attempts: []journeys.Attempt{attempt}}},
	}}
	for _, open := range []bool{true, false} {
		s := newSim(t, morning)
		s.checks.window = open
		s.run(journeys.Input{Journey: j, To: "+15551234567"})
		m := s.sends[0].Message
		if open && (m.Interactive == nil || m.Template != nil) || !open && (m.Interactive != nil || m.Template == nil) {
			t.Errorf("window open %v: sent interactive %v, template %v", open, m.Interactive != nil, m.Template != nil)
		}
	}
}
