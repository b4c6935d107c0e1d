package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

var week = store.CapLimit{Sends: 2, Window: 7 * 24 * time.Hour}

func TestFrequencyCapsFor(t *testing.T) {
	caps := FrequencyCaps{
		{Purpose: journeys.Marketing, Limit: store.CapLimit{Sends: 3, Window: time.Hour}},
		{Purpose: journeys.Marketing, Channel: channels.WhatsApp, Limit: week},
	}
	for _, c := range []struct {
		p    journeys.Purpose
		ch   channels.Channel
		want store.CapLimit
		ok   bool
	}{
		{journeys.Marketing, channels.WhatsApp, week, true},
		{journeys.Marketing, channels.SMS, caps[0].Limit, true},
		{journeys.Utility, channels.WhatsApp, store.CapLimit{}, false},
		{journeys.Authentication, channels.SMS, store.CapLimit{}, false},
	} {
		got, ok := caps.For(c.p, c.ch)
		if got != c.want || ok != c.ok {
			t.Errorf("For(%s, %s) = %v, %v; want %v, %v", c.p, c.ch, got, ok, c.want, c.ok)
		}
	}
}

// TestCheckEligibilityFrequencyCap: the third marketing send within the
// week is skipped as frequency_capped, across journeys; a retried check
// takes no second send; utility is not capped; the window slides.
func TestCheckEligibilityFrequencyCap(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	a, st := newTestActivities(t, now)
	a.Caps = FrequencyCaps{{Purpose: journeys.Marketing, Channel: channels.WhatsApp, Limit: week}}
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	if err := st.RecordConsent(ctx, store.Consent{ContactKey: key, Channel: channels.WhatsApp, Purpose: "marketing", Granted: true, Source: "test", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	check := func(purpose journeys.Purpose, wf string) Eligibility {
		t.Helper()
		req := EligibilityRequest{Journey: "promo", Purpose: purpose, Channel: channels.WhatsApp, To: testNumber, HasTemplate: true, WorkflowID: wf, Attempt: 1}
		el, err := a.CheckEligibility(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return el
	}
	for i := range 2 {
		if el := check(journeys.Marketing, fmt.Sprintf("promo-%d", i)); !el.Allowed {
			t.Fatalf("marketing send %d: %+v, want allowed", i+1, el)
		}
	}
	if el := check(journeys.Marketing, "promo-0"); !el.Allowed {
		t.Errorf("retried check of send 1: %+v, want allowed", el)
	}
	el := check(journeys.Marketing, "other-journey")
	if el.Allowed || el.Class != store.ClassFrequencyCapped {
		t.Errorf("third marketing send: %+v, want a skip of class %s", el, store.ClassFrequencyCapped)
	}
	if el := check(journeys.Utility, "order-update"); !el.Allowed {
		t.Errorf("utility send: %+v, want allowed (not capped)", el)
	}
	a.Now = func() time.Time { return now.Add(week.Window) }
	if el := check(journeys.Marketing, "next-week"); !el.Allowed {
		t.Errorf("a week later: %+v, want allowed", el)
	}
}

// TestCheckEligibilityCapDeferred: an attempt the journey will defer
// (unreachable last time) takes no send of the cap.
func TestCheckEligibilityCapDeferred(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	a, st := newTestActivities(t, now)
	a.Caps = FrequencyCaps{{Purpose: journeys.Utility, Limit: store.CapLimit{Sends: 1, Window: time.Hour}}}
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	if err := st.SetReachability(ctx, store.Reachability{ContactKey: key, Channel: channels.WhatsApp, Code: "131026", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	req := EligibilityRequest{Journey: "j", Purpose: journeys.Utility, Channel: channels.WhatsApp, To: testNumber, HasTemplate: true, WorkflowID: "wf", Attempt: 1, MayDefer: true}
	for _, attempt := range []int{1, 2} {
		req.Attempt = attempt
		if el, err := a.CheckEligibility(ctx, req); err != nil || !el.Allowed {
			t.Fatalf("deferrable attempt %d: %+v, %v; want allowed", attempt, el, err)
		}
	}
	req.Attempt, req.MayDefer = 3, false
	if el, err := a.CheckEligibility(ctx, req); err != nil || !el.Allowed {
		t.Fatalf("last attempt: %+v, %v; want allowed (deferred ones took no send)", el, err)
	}
	req.Attempt = 4
	if el, err := a.CheckEligibility(ctx, req); err != nil || el.Class != store.ClassFrequencyCapped {
		t.Errorf("after the cap's one send: %+v, %v; want frequency_capped", el, err)
	}
}
