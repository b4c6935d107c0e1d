package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// Every store.Store is a GuardStore.
var _ GuardStore = store.Store(nil)

// guardFixture is a broadcast check over a SQLite store, for a journey
// that sends the WhatsApp template promo (en_US), then SMS.
func guardFixture(t *testing.T, now time.Time) (*Broadcasts, store.Store) {
	t.Helper()
	a, st := newTestActivities(t, now)
	j := journeys.Journey{Name: "promo", Purpose: journeys.Marketing, Steps: []journeys.Step{{Send: &journeys.SendStep{ID: "s", Attempts: []journeys.Attempt{
		{Channel: channels.WhatsApp, Fields: channels.Fields{"template": map[string]any{"name": "promo", "language": "en_US"}}},
		{Channel: channels.SMS, Fields: channels.Fields{"text": "Sale!"}},
	}}}}}
	b := &Broadcasts{Channels: a.Channels, Guard: st, Now: func() time.Time { return now },
		Journeys: func(string) (journeys.Journey, error) { return j, nil }}
	return b, st
}

func check(t *testing.T, b *Broadcasts, since time.Time, acked ...string) CheckResult {
	t.Helper()
	res, err := b.BroadcastCheck(context.Background(), CheckRequest{Broadcast: "sale", Journey: "promo", Since: since, Acked: acked})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Each condition of the quality guard pauses with its class until it is
// acknowledged; conditions before the watch began do not count.
func TestBroadcastCheckGuard(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	since := now.Add(-time.Hour)
	tests := []struct {
		name  string
		setup func(t *testing.T, st store.Store)
		want  store.ReasonClass
	}{
		{"nothing", func(*testing.T, store.Store) {}, ""},
		{"number flagged", func(t *testing.T, st store.Store) {
			must(t, st.SetNumberState(ctx, store.NumberState{Account: "waba", Event: "FLAGGED", Flagged: true, UpdatedAt: now.Add(-48 * time.Hour)}))
		}, store.ClassNumberFlagged},
		{"number downgraded", func(t *testing.T, st store.Store) {
			must(t, st.SetNumberState(ctx, store.NumberState{Account: "waba", Event: "DOWNGRADE", Tier: "TIER_250", UpdatedAt: now.Add(-time.Minute)}))
		}, store.ClassNumberQuality},
		{"number downgraded before the watch", func(t *testing.T, st store.Store) {
			must(t, st.SetNumberState(ctx, store.NumberState{Account: "waba", Event: "DOWNGRADE", UpdatedAt: since.Add(-time.Minute)}))
		}, ""},
		{"template paused", func(t *testing.T, st store.Store) {
			must(t, st.ReplaceTemplates(ctx, "waba", []store.Template{{Name: "promo", Language: "en_US", Category: "MARKETING", Status: "APPROVED", Data: []byte("{}")}}, now))
			must(t, st.SetTemplateStatus(ctx, "promo", "en_US", store.TemplateStatus{Status: "PAUSED"}))
		}, store.ClassTemplatePaused},
		{"other template disabled", func(t *testing.T, st store.Store) {
			must(t, st.ReplaceTemplates(ctx, "waba", []store.Template{{Name: "other", Language: "en_US", Category: "MARKETING", Status: "DISABLED", Data: []byte("{}")}}, now))
		}, ""},
		{"a 132015 failure", func(t *testing.T, st store.Store) {
			sends(t, st, now.Add(-time.Minute), 5, 1, "132015")
		}, store.ClassTemplatePaused},
		{"131049 surge", func(t *testing.T, st store.Store) {
			sends(t, st, now.Add(-time.Minute), 40, 6, "131049") // 15% > 10%
		}, store.ClassFailureSurge},
		{"131026 below the threshold", func(t *testing.T, st store.Store) {
			sends(t, st, now.Add(-time.Minute), 40, 3, "131026") // 7.5%
		}, ""},
		{"a surge before the watch", func(t *testing.T, st store.Store) {
			sends(t, st, since.Add(-time.Minute), 40, 20, "131049")
		}, ""},
		{"too few sends to judge", func(t *testing.T, st store.Store) {
			sends(t, st, now.Add(-time.Minute), 10, 5, "131049")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, st := guardFixture(t, now)
			tt.setup(t, st)
			res := check(t, b, since)
			if res.Pause != tt.want {
				t.Fatalf("check = %+v, want pause %q", res, tt.want)
			}
			if tt.want == "" {
				return
			}
			if res.Reason == "" || res.Key == "" {
				t.Errorf("check = %+v: a pause without a reason or key", res)
			}
			if again := check(t, b, since, res.Key); again.Pause != "" {
				t.Errorf("acknowledged %s: %+v, want no pause", res.Key, again)
			}
		})
	}
}

// sends records n WhatsApp sends of the broadcast's journeys at at, the
// first failed of them failed with code.
func sends(t *testing.T, st store.Store, at time.Time, n, failed int, code string) {
	t.Helper()
	for i := range n {
		e := store.MessageEvent{Provider: "whatsapp", MessageID: fmt.Sprintf("w%d", i), Status: store.EventAccepted,
			WorkflowID: JourneyID("sale", fmt.Sprintf("k%d", i)), Attempt: 1, Channel: channels.WhatsApp, At: at}
		if i < failed {
			e.Status, e.ErrorCode = store.EventFailed, code
		}
		if _, err := st.RecordEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// The check reports the messaging limit's room and when the oldest
// recipient leaves the window; no limit, no cap.
func TestBroadcastCheckRoom(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	b, st := guardFixture(t, now)
	if res := check(t, b, now); res.Capped {
		t.Errorf("no limits: %+v, want not capped", res)
	}
	b.Limits = &MessagingLimits{Tier: "TIER_250", Warmup: []int{3}, WarmupStart: now.Add(-time.Hour)}
	for i, at := range []time.Duration{-3 * time.Hour, -time.Hour} {
		if ok, err := st.ReserveRecipient(ctx, fmt.Sprintf("k%d", i), 3, now.Add(at)); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	res := check(t, b, now)
	if !res.Capped || res.Limit != 3 || res.Room != 1 || !res.FreeAt.Equal(now.Add(21*time.Hour)) || res.NextChannel {
		t.Errorf("check = %+v, want capped at 3 (warm-up day 1) with room 1, free at +21h", res)
	}
	j, _ := b.Journeys("promo")
	journeyOf := func(j journeys.Journey) func(string) (journeys.Journey, error) {
		return func(string) (journeys.Journey, error) { return j, nil }
	}
	next := j
	next.TierLimit = journeys.TierLimitNextChannel
	b.Journeys = journeyOf(next)
	if res := check(t, b, now); !res.Capped || !res.NextChannel {
		t.Errorf("a next_channel journey: %+v, want capped and next_channel", res)
	}
	sms := j
	sms.Steps = []journeys.Step{{Send: &journeys.SendStep{ID: "s", Attempts: j.Steps[0].Send.Attempts[1:]}}}
	b.Journeys = journeyOf(sms)
	if res := check(t, b, now); res.Capped {
		t.Errorf("a journey that starts on SMS: %+v, want not capped", res)
	}
}

// BroadcastStart counts each member against the limit it is given before
// starting its journey, and stops at the first without room.
func TestBroadcastStartTierLimit(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	b, st := guardFixture(t, now)
	a := &audience{contacts: map[string]store.Contact{}}
	for i := range 4 {
		k := fmt.Sprintf("k%d", i)
		a.contacts[k] = store.Contact{Key: k, Number: fmt.Sprintf("+1555000001%d", i)}
	}
	b.Store = a
	var started []string
	b.Start = func(_ context.Context, o journeys.StartOptions) (bool, error) {
		started = append(started, o.ID)
		return false, nil
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	v, err := env.ExecuteActivity(BroadcastStartName, StartBatchRequest{Broadcast: "sale", Journey: "promo", Keys: []string{"k0", "k1", "k2", "k3"}, TierLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got BatchCounts
	if err := v.Get(&got); err != nil {
		t.Fatal(err)
	}
	if got.Started != 2 || got.Left != 2 || len(started) != 2 {
		t.Errorf("BroadcastStart = %+v (started %v), want 2 started and 2 left", got, started)
	}
	u, err := st.TierUsage(context.Background(), now)
	if err != nil || u.Recipients != 2 {
		t.Errorf("TierUsage = %+v, %v; want 2 recipients", u, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
