package console

import (
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

func TestDrawTimelineLanesAndFallback(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tl := journeys.Timeline{Journey: "otp", Outcome: journeys.OutcomeVerified, Events: []journeys.Event{
		{Time: at(0), Kind: journeys.EventStarted},
		{Time: at(5), Kind: journeys.EventAttempt, Attempt: 1, Channel: channels.WhatsApp},
		{Time: at(9), Kind: journeys.EventStatus, Attempt: 1, Channel: channels.WhatsApp, Status: channels.StatusFailed, Code: "131026"},
		{Time: at(10), Kind: journeys.EventFallback, Attempt: 1, Channel: channels.WhatsApp, Code: "131026", Reason: "failed: Message undeliverable", ReasonClass: store.ReasonClass("provider_failed")},
		{Time: at(12), Kind: journeys.EventAttempt, Attempt: 2, Channel: channels.SMS},
		{Time: at(40), Kind: journeys.EventVerify, Channel: channels.SMS},
		{Time: at(41), Kind: journeys.EventDone, Channel: channels.SMS},
	}}
	// The registry's order, not the timeline's, orders the lanes.
	p := drawTimeline(tl, []channels.Channel{channels.SMS, channels.WhatsApp, channels.Email})
	var lanes []string
	for _, l := range p.Lanes {
		lanes = append(lanes, l.Name)
	}
	if got := strings.Join(lanes, " "); got != "journey sms whatsapp" {
		t.Errorf("lanes %q, want journey sms whatsapp", got)
	}
	laneY := map[string]int{}
	for _, l := range p.Lanes {
		laneY[l.Name] = l.Y
	}
	if len(p.Marks) != len(tl.Events) {
		t.Fatalf("%d marks for %d entries", len(p.Marks), len(tl.Events))
	}
	for i, want := range []string{"journey", "whatsapp", "whatsapp", "whatsapp", "sms", "journey", "journey"} {
		if p.Marks[i].Y != laneY[want] {
			t.Errorf("mark %d (%s) in the lane at y=%d, want %s's", i, p.Marks[i].Label, p.Marks[i].Y, want)
		}
		if i > 0 && p.Marks[i].X <= p.Marks[i-1].X {
			t.Errorf("mark %d is not right of mark %d", i, i-1)
		}
	}
	fb := p.Marks[3]
	if fb.Class != "bad" || fb.ReasonClass != "provider_failed" || !strings.HasPrefix(fb.Reason, "131026 failed") || !strings.Contains(fb.Title, "131026 failed: Message undeliverable · [provider_failed]") {
		t.Errorf("fallback mark %+v", fb)
	}
	if len(p.Links) != 1 || p.Links[0] != (link{fb.X, fb.Y, p.Marks[4].X, p.Marks[4].Y}) {
		t.Errorf("links %+v, want one from the fallback to the SMS attempt", p.Links)
	}
	if done := p.Marks[6]; done.Label != "done: verified" || done.Class != "ok" || done.Time != "+41ms" {
		t.Errorf("done mark %+v", done)
	}
	if p.Width < p.Marks[6].X || p.Height != 3*picLane {
		t.Errorf("picture %dx%d does not hold its marks", p.Width, p.Height)
	}
}

func TestShorten(t *testing.T) {
	for in, want := range map[string]string{"short": "short", "exactly ten": "exactly t…", "ünïcödé ünïcödé": "ünïcödé ü…"} {
		if got := diagram.Shorten(in, 10); got != want {
			t.Errorf("diagram.Shorten(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	ev, err := parseEvent("shipped", "tracking_url = https://t.example/a=b\n\n carrier=ups ")
	if err != nil || ev.Name != "shipped" || ev.Vars["tracking_url"] != "https://t.example/a=b" || ev.Vars["carrier"] != "ups" || len(ev.Vars) != 2 {
		t.Errorf("parseEvent = %+v, %v", ev, err)
	}
	if _, err := parseEvent("", ""); err == nil {
		t.Error("an event without a name is accepted")
	}
	if _, err := parseEvent("x", "a=1\nnot a pair"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a line without = gives %v, want an error naming line 2", err)
	}
}
