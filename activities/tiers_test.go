package activities

import (
	"context"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

func TestTierLimit(t *testing.T) {
	for _, c := range []struct {
		tier   string
		limit  int
		capped bool
		bad    bool
	}{
		{"TIER_250", 250, true, false},
		{"tier_2k", 2000, true, false},
		{"TIER_10K", 10_000, true, false},
		{"TIER_100K", 100_000, true, false},
		{"TIER_UNLIMITED", 0, false, false},
		{"unlimited", 0, false, false},
		{"TIER_NOT_SET", 0, false, false},
		{"", 0, false, false},
		{"500", 500, true, false},
		{"TIER_3K", 0, false, true},
		{"-1", 0, false, true},
	} {
		limit, capped, err := TierLimit(c.tier)
		if limit != c.limit || capped != c.capped || (err != nil) != c.bad {
			t.Errorf("TierLimit(%q) = %d, %v, %v; want %d, %v, error %v", c.tier, limit, capped, err, c.limit, c.capped, c.bad)
		}
	}
}

// TestMessagingLimitsLimit: the configured tier wins over the reported
// one; the warm-up day's limit applies when smaller, and ends after its
// last day.
func TestMessagingLimitsLimit(t *testing.T) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	m := MessagingLimits{Warmup: []int{250, 1000, 2000}, WarmupStart: start}
	for _, c := range []struct {
		m      MessagingLimits
		stored string
		at     time.Time
		limit  int
		capped bool
	}{
		{MessagingLimits{}, "", start, 0, false},
		{MessagingLimits{}, "TIER_2K", start, 2000, true},
		{MessagingLimits{Tier: "TIER_250"}, "TIER_10K", start, 250, true},
		{m, "TIER_10K", start.Add(time.Hour), 250, true},
		{m, "TIER_10K", start.Add(30 * time.Hour), 1000, true},
		{m, "TIER_250", start.Add(30 * time.Hour), 250, true},
		{m, "", start.Add(50 * time.Hour), 2000, true},
		{m, "TIER_10K", start.Add(72 * time.Hour), 10_000, true},
		{m, "", start.Add(-time.Hour), 0, false},
		{MessagingLimits{}, "TIER_SOMETHING_NEW", start, 250, true},
	} {
		limit, capped := c.m.Limit(c.stored, c.at)
		if limit != c.limit || capped != c.capped {
			t.Errorf("%+v.Limit(%q, +%v) = %d, %v; want %d, %v", c.m, c.stored, c.at.Sub(start), limit, capped, c.limit, c.capped)
		}
	}
}

// TestCheckEligibilityTierLimited: with a tier of 2, templates to two
// recipients go, a third is skipped as tier_limited, a recipient counted
// already goes again, a session message inside the window and a template
// inside the window do not count, SMS is not counted; the reported tier
// applies when none is configured.
func TestCheckEligibilityTierLimited(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	a, st := newTestActivities(t, now)
	a.Limits = &MessagingLimits{Tier: "2"}
	check := func(to string, ch channels.Channel, session bool) Eligibility {
		t.Helper()
		req := EligibilityRequest{Journey: "promo", Purpose: journeys.Utility, Channel: ch, To: to, Session: session, HasTemplate: !session,
			WorkflowID: "wf-" + to, Attempt: 1}
		el, err := a.CheckEligibility(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return el
	}
	open := "+15550000009"
	if err := st.RecordInbound(ctx, journeys.ContactKey([]byte(testSecret), open), channels.WhatsApp, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"+15550000001", "+15550000002"} {
		if el := check(to, channels.WhatsApp, false); !el.Allowed {
			t.Fatalf("template to %s: %+v, want allowed", to, el)
		}
	}
	el := check("+15550000003", channels.WhatsApp, false)
	if el.Allowed || el.Class != store.ClassTierLimited {
		t.Errorf("third recipient: %+v, want a skip of class %s", el, store.ClassTierLimited)
	}
	for _, c := range []struct {
		name    string
		to      string
		ch      channels.Channel
		session bool
	}{
		{"a recipient counted already", "+15550000001", channels.WhatsApp, false},
		{"a template inside the window", open, channels.WhatsApp, false},
		{"a session message inside the window", open, channels.WhatsApp, true},
		{"an SMS", "+15550000004", channels.SMS, false},
	} {
		if el := check(c.to, c.ch, c.session); !el.Allowed {
			t.Errorf("%s: %+v, want allowed", c.name, el)
		}
	}
	a.Limits = &MessagingLimits{}
	if err := st.SetNumberState(ctx, store.NumberState{Account: "waba", Tier: "TIER_250", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if el := check("+15550000003", channels.WhatsApp, false); !el.Allowed {
		t.Errorf("with the reported TIER_250: %+v, want allowed", el)
	}
}
