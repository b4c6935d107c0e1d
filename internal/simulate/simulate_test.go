package simulate

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
)

func otp(t *testing.T) journeys.Input {
	j, err := journeys.Builtin("otp", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	return journeys.Input{Journey: j, To: "+15551234567", Vars: map[string]string{"code": "493817"}}
}

// sends lists "channel@offset" for each message the journey sent.
func sends(tl journeys.Timeline) []string {
	var out []string
	for _, ev := range tl.Events {
		if ev.Kind == journeys.EventSent {
			out = append(out, fmt.Sprintf("%s@%s", ev.Channel, ev.Time.Sub(tl.Events[0].Time)))
		}
	}
	return out
}

// testChannels are the channels a simulation sends on.
var testChannels = channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{})

func TestRun(t *testing.T) {
	tests := []struct {
		scenario string
		checks   []Check
		outcome  journeys.Outcome
		sends    []string
	}{
		{"", []Check{{time.Minute, "493817"}}, journeys.OutcomeVerified, []string{"whatsapp@0s"}},
		{"whatsapp=failed,sms=delivered", []Check{{time.Minute, "493817"}}, journeys.OutcomeVerified, []string{"whatsapp@0s", "sms@2s"}},
		{"whatsapp=silent", nil, journeys.OutcomeExpired, []string{"whatsapp@0s", "sms@30s"}},
		{"whatsapp=refused,sms=sent", nil, journeys.OutcomeFailed, []string{"sms@0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			sc, err := ParseScenario(tt.scenario, testChannels)
			if err != nil {
				t.Fatal(err)
			}
			tl, err := Run(Options{Input: otp(t), Scenario: sc, Checks: tt.checks, Channels: testChannels})
			if err != nil {
				t.Fatal(err)
			}
			if tl.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", tl.Outcome, tt.outcome)
			}
			if got := sends(tl); fmt.Sprint(got) != fmt.Sprint(tt.sends) {
				t.Errorf("sends = %v, want %v", got, tt.sends)
			}
		})
	}
}

func TestParseScenario(t *testing.T) {
	sc, err := ParseScenario("whatsapp=failed, email=read", testChannels)
	if err != nil || sc[channels.WhatsApp] != Failed || sc[channels.Email] != Read || len(sc) != 2 {
		t.Errorf("ParseScenario = %v, %v", sc, err)
	}
	for _, bad := range []string{"whatsapp", "fax=failed", "sms=lost"} {
		if _, err := ParseScenario(bad, testChannels); err == nil {
			t.Errorf("ParseScenario(%q, testChannels): want an error", bad)
		}
	}
}
