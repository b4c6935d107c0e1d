package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
	"github.com/switchbackhq/switchback/workflows"
)

// waitBroadcast polls a broadcast's status until ok says it is what the
// test waits for, or a minute passes.
func waitBroadcast(t *testing.T, ctx context.Context, s *apptest.Stack, id string, ok func(workflows.BroadcastStatus) bool) workflows.BroadcastStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := workflows.GetBroadcastStatus(ctx, s.Client, s.Store, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %s: %+v, gave up waiting", id, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The sandbox pauses the otp_code template while a broadcast of otp runs:
// its signed message_template_status_update reaches the webhook, the
// registry records PAUSED, and the broadcast pauses itself between
// batches, with the class template_paused and a reason in its status.
// Nothing more starts until a person resumes it; then it completes, the
// acknowledged pause not repeated. With SWITCHBACK_RECORD_HISTORIES=DIR
// its history is recorded for the replay test (broadcast-guard.json).
func TestEndToEndBroadcastPausesOnTemplatePaused(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := s.Config.WhatsApp
	if _, err := templates.Sync(ctx, templates.SyncConfig{APIURL: w.APIURL, WABAID: w.WABAID, AccessToken: w.AccessToken}, app.TemplateRegistry(s.Store)); err != nil {
		t.Fatal(err)
	}
	s.SeedSegment(t, "sale", 30)
	in := workflows.BroadcastInput{Journey: "otp", Segment: "sale", Vars: map[string]string{"code": "493817"},
		Rate: 10, PageSize: 10, BatchSize: 2}
	if _, _, err := workflows.StartBroadcast(ctx, s.Client, "guarded", in); err != nil {
		t.Fatal(err)
	}
	waitBroadcast(t, ctx, s, "guarded", func(st workflows.BroadcastStatus) bool { return st.Started >= 4 })
	if err := s.Sandbox.TemplateStatusChanges(ctx, "otp_code", "en_US", "PAUSED"); err != nil {
		t.Fatal(err)
	}
	paused := waitBroadcast(t, ctx, s, "guarded", func(st workflows.BroadcastStatus) bool { return st.Phase == workflows.PhasePaused })
	if paused.PauseClass != store.ClassTemplatePaused || paused.PauseReason == "" || paused.Started >= 30 {
		t.Errorf("paused: %+v, want class %s with a reason, before the end", paused, store.ClassTemplatePaused)
	}
	events, err := s.Store.Events(ctx, store.EventFilter{WorkflowID: "guarded"})
	if err != nil || len(events) != 1 || events[0].Status != store.EventBroadcastPaused || events[0].ReasonClass != store.ClassTemplatePaused {
		t.Errorf("the broadcast's events = %+v, %v; want its pause, of class %s", events, err, store.ClassTemplatePaused)
	}
	time.Sleep(500 * time.Millisecond)
	if st, err := workflows.GetBroadcastStatus(ctx, s.Client, nil, "guarded"); err != nil || st.Started != paused.Started || st.Phase != workflows.PhasePaused {
		t.Errorf("half a second later: %+v, %v; want still paused at %d started", st, err, paused.Started)
	}
	// Meta lifts a first pause after 3 hours (REINSTATED): until then the
	// sandbox fails every send of the template with 132015, as Meta does.
	if err := s.Sandbox.TemplateStatusChanges(ctx, "otp_code", "en_US", "REINSTATED"); err != nil {
		t.Fatal(err)
	}
	resumed, err := workflows.SteerBroadcast(ctx, s.Client, "guarded", workflows.UpdateResume)
	if err != nil || resumed.PauseClass != "" || resumed.PauseReason != "" {
		t.Fatalf("resume: %+v, %v; want running with the reason cleared", resumed, err)
	}
	var st workflows.BroadcastStatus
	if err := s.Client.GetWorkflow(ctx, "guarded", "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != workflows.PhaseCompleted || st.Started != 30 {
		t.Errorf("status = %+v, want completed with 30 started", st)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "guarded", filepath.Join(dir, "broadcast-guard.json"))
	}
}

// A messaging limit of 12 (SWITCHBACK_WHATSAPP_TIER) over a broadcast of
// 20: 12 journeys start, then the broadcast waits for the oldest to leave
// the 24-hour window, and says until when in its status; the store counts
// 12 recipients. With SWITCHBACK_RECORD_HISTORIES=DIR its history is
// recorded for the replay test (broadcast-tier-wait.json).
func TestEndToEndBroadcastWaitsForTier(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording(), Configure: func(c *config.Config) {
		c.MessagingLimits = &activities.MessagingLimits{Tier: "12"}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.SeedSegment(t, "sale", 20)
	in := workflows.BroadcastInput{Journey: "otp", Segment: "sale", Vars: map[string]string{"code": "493817"},
		Rate: 50, PageSize: 10, BatchSize: 5}
	if _, _, err := workflows.StartBroadcast(ctx, s.Client, "tiered", in); err != nil {
		t.Fatal(err)
	}
	st := waitBroadcast(t, ctx, s, "tiered", func(st workflows.BroadcastStatus) bool { return !st.TierWaitUntil.IsZero() })
	if st.Started != 12 || st.TierWaits != 1 || st.Phase != workflows.PhaseRunning ||
		time.Until(st.TierWaitUntil) < 23*time.Hour || time.Until(st.TierWaitUntil) > 25*time.Hour {
		t.Errorf("waiting: %+v, want 12 started and a wait of about 24h", st)
	}
	u, err := s.Store.TierUsage(ctx, time.Now())
	if err != nil || u.Recipients != 12 {
		t.Errorf("TierUsage = %+v, %v; want 12 recipients", u, err)
	}
	if _, err := workflows.SteerBroadcast(ctx, s.Client, "tiered", workflows.UpdateCancel); err != nil {
		t.Fatal(err)
	}
	if err := s.Client.GetWorkflow(ctx, "tiered", "").Get(ctx, &st); err != nil || st.Phase != workflows.PhaseCanceled {
		t.Errorf("after cancel: %+v, %v", st, err)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "tiered", filepath.Join(dir, "broadcast-tier-wait.json"))
	}
}
