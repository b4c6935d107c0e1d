package simulate

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// TestRunFrequencyCap: with one marketing WhatsApp message sent recently
// and a cap of two, abandoned_cart's first reminder goes on WhatsApp, its
// second is capped there and goes by email.
func TestRunFrequencyCap(t *testing.T) {
	j, err := journeys.Builtin("abandoned_cart", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	recent, err := ParseSentRecently("whatsapp=1", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := Run(Options{
		Input:        journeys.Input{Journey: j, To: "+15551234567", Email: "ana@example.com", Vars: map[string]string{"cart_url": "https://shop.example/c/1"}},
		Start:        time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		Channels:     testChannels,
		Caps:         activities.FrequencyCaps{{Purpose: journeys.Marketing, Channel: channels.WhatsApp, Limit: store.CapLimit{Sends: 2, Window: 7 * 24 * time.Hour}}},
		SentRecently: recent,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := sendsAndSkips(tl)
	want := []string{"first_reminder sent whatsapp", "second_reminder skipped whatsapp (frequency_capped)", "second_reminder sent email"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("timeline:\n got %q\nwant %q", got, want)
	}
}

func TestParseSentRecently(t *testing.T) {
	got, err := ParseSentRecently("whatsapp=2, email=0", testChannels)
	if err != nil || got[channels.WhatsApp] != 2 || got[channels.Email] != 0 || len(got) != 2 {
		t.Errorf("ParseSentRecently = %v, %v", got, err)
	}
	for _, bad := range []string{"whatsapp", "fax=1", "sms=-1", "sms=two"} {
		if _, err := ParseSentRecently(bad, testChannels); err == nil {
			t.Errorf("ParseSentRecently(%q, testChannels): want an error", bad)
		}
	}
}

// TestRunTierLimit: with the messaging limit's 250 recipients counted
// today, abandoned_cart's WhatsApp reminders are skipped as tier_limited
// and go by email; one recipient short of the limit, the first reminder
// counts the contact and the second goes on WhatsApp too.
func TestRunTierLimit(t *testing.T) {
	j, err := journeys.Builtin("abandoned_cart", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		today int
		want  []string
	}{
		{250, []string{"first_reminder skipped whatsapp (tier_limited)", "first_reminder sent email",
			"second_reminder skipped whatsapp (tier_limited)", "second_reminder sent email"}},
		{249, []string{"first_reminder sent whatsapp", "second_reminder sent whatsapp"}},
	} {
		tl, err := Run(Options{
			Input:    journeys.Input{Journey: j, To: "+15551234567", Email: "ana@example.com", Vars: map[string]string{"cart_url": "https://shop.example/c/1"}},
			Start:    time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
			Channels: testChannels, Tier: "TIER_250", SentToday: c.today,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := sendsAndSkips(tl)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%d sent today: timeline\n got %q\nwant %q", c.today, got, c.want)
		}
	}
	if _, err := Run(Options{Input: journeys.Input{Journey: j}, Channels: testChannels, Tier: "TIER_3K"}); err == nil {
		t.Error("an unknown tier: no error")
	}
}

// sendsAndSkips writes a timeline's sends and skips, one a line.
func sendsAndSkips(tl journeys.Timeline) []string {
	var out []string
	for _, ev := range tl.Events {
		switch ev.Kind {
		case journeys.EventSent:
			out = append(out, fmt.Sprintf("%s sent %s", ev.Step, ev.Channel))
		case journeys.EventSkipped:
			out = append(out, fmt.Sprintf("%s skipped %s (%s)", ev.Step, ev.Channel, ev.ReasonClass))
		}
	}
	return out
}
