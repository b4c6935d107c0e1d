package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// A broadcast to 50 contacts (and one without a number) on a real server
// with the sandbox providers: every contact gets one message, even when
// the broadcast is submitted twice; its runs continue as new with short
// histories; its status counts the deliveries. With
// SWITCHBACK_RECORD_HISTORIES=DIR its last run is recorded for the replay
// test (broadcast-*.json).
func TestEndToEndBroadcast(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	numbers := s.SeedSegment(t, "sale", 50)
	in := workflows.BroadcastInput{Journey: "otp", Segment: "sale", Vars: map[string]string{"code": "493817"},
		Rate: 200, PageSize: 10, BatchSize: 5, PagesPerRun: 2}
	for i, wantExisted := range []bool{false, true} {
		if _, existed, err := workflows.StartBroadcast(ctx, s.Client, "sale-1", in); err != nil || existed != wantExisted {
			t.Fatalf("start %d: existed %v, %v; want %v", i+1, existed, err, wantExisted)
		}
	}
	var st workflows.BroadcastStatus
	if err := s.Client.GetWorkflow(ctx, "sale-1", "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != workflows.PhaseCompleted || st.Started != 50 || st.Skipped[activities.SkipNoNumber] != 1 || st.Total != 51 {
		t.Errorf("status = %+v, want completed, 50 started, 1 without a number, of 51", st)
	}
	sizes, err := workflows.RunHistories(ctx, s.Client, "sale-1")
	if err != nil {
		t.Fatal(err)
	}
	// 6 pages (the last empty), 2 a run: 3 runs, each of 2 page reads,
	// at most 4 batches and their timers.
	if len(sizes) != 3 {
		t.Errorf("runs = %d (%v), want 3", len(sizes), sizes)
	}
	for i, n := range sizes {
		if n > 80 {
			t.Errorf("run %d: %d history events, want at most 80", i+1, n)
		}
	}
	// Each contact got the journey once, and its deliveries are counted.
	sent := map[string]int{}
	deadline := time.Now().Add(time.Minute)
	for {
		st, err = workflows.GetBroadcastStatus(ctx, s.Client, s.Store, "sale-1")
		if err != nil {
			t.Fatal(err)
		}
		if st.Delivered == 50 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Delivered != 50 || st.Failed != 0 {
		t.Errorf("delivered %d, failed %d; want 50, 0", st.Delivered, st.Failed)
	}
	for _, m := range s.Sandbox.Sent() {
		sent[m.To]++
	}
	for _, num := range numbers {
		if n := sent[num] + sent[num[1:]]; n != 1 {
			t.Errorf("%s got %d messages, want 1", num[:8], n)
		}
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "sale-1", filepath.Join(dir, "broadcast-last-run.json"))
	}
}

// Pause, resume and cancel on a real server: updates that the phase does
// not allow are refused, and cancel stops the contacts not started yet.
func TestEndToEndBroadcastSteering(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.SeedSegment(t, "sale", 50)
	in := workflows.BroadcastInput{Journey: "otp", Segment: "sale", Vars: map[string]string{"code": "493817"},
		Rate: 4, PageSize: 20, BatchSize: 2}
	if _, _, err := workflows.StartBroadcast(ctx, s.Client, "slow", in); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		update string
		phase  workflows.Phase
		refuse bool
	}{
		{workflows.UpdateResume, "", true},
		{workflows.UpdatePause, workflows.PhasePaused, false},
		{workflows.UpdatePause, "", true},
		{workflows.UpdateResume, workflows.PhaseRunning, false},
		{workflows.UpdateCancel, workflows.PhaseCanceled, false},
	}
	for _, step := range steps {
		time.Sleep(300 * time.Millisecond)
		st, err := workflows.SteerBroadcast(ctx, s.Client, "slow", step.update)
		var te *workflows.TransitionError
		switch {
		case step.refuse && !errors.As(err, &te):
			t.Errorf("%s: %v, want it refused", step.update, err)
		case !step.refuse && (err != nil || st.Phase != step.phase):
			t.Errorf("%s: %+v, %v; want %s", step.update, st, err, step.phase)
		}
	}
	var st workflows.BroadcastStatus
	if err := s.Client.GetWorkflow(ctx, "slow", "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != workflows.PhaseCanceled || st.Started == 0 || st.Started > 20 || st.Remaining != st.Total-st.Done() {
		t.Errorf("canceled: %+v, want a few started and the rest remaining", st)
	}
	// Ended, it refuses by its phase, not as a workflow that is gone.
	_, err := workflows.SteerBroadcast(ctx, s.Client, "slow", workflows.UpdatePause)
	if te := (*workflows.TransitionError)(nil); !errors.As(err, &te) || !strings.Contains(te.Msg, "it is canceled") {
		t.Errorf("pause after the end: %v, want it refused as canceled", err)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "slow", filepath.Join(dir, "broadcast-steered.json"))
	}
}

// A one-time passcode started while a broadcast fills the WhatsApp queue
// is sent next, not behind the broadcast: a broadcast's journeys run at
// journeys.BroadcastPriority. With WhatsApp at 4 sends a second, 40
// broadcast sends take 10 s to drain.
func TestEndToEndOTPAheadOfBroadcast(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Configure: func(c *config.Config) {
		*c = c.WithSettings(map[string]string{"SWITCHBACK_RATE_WHATSAPP": "4"})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.SeedSegment(t, "sale", 40)
	in := workflows.BroadcastInput{Journey: "otp", Segment: "sale", Vars: map[string]string{"code": "493817"}, Rate: 1000}
	run, _, err := workflows.StartBroadcast(ctx, s.Client, "sale-otp", in)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Client.GetWorkflow(ctx, "sale-otp", run).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	before := len(s.Sandbox.Sent())
	otp := s.RunOTP(t, "+15551234567")
	if otp.Result.Channel != channels.WhatsApp {
		t.Fatalf("otp delivered on %q, want whatsapp", otp.Result.Channel)
	}
	// Every broadcast send, then the order.
	sent := s.Sandbox.Sent()
	for ; len(sent) < 41 && ctx.Err() == nil; sent = s.Sandbox.Sent() {
		time.Sleep(100 * time.Millisecond)
	}
	at := slices.IndexFunc(sent, func(m sandbox.SentMessage) bool { return strings.HasSuffix(m.To, "15551234567") })
	if at < 0 {
		t.Fatal("the otp's WhatsApp message was not sent")
	}
	// The sends already given to a worker when the otp's came go first;
	// most of the broadcast's backlog must still come after it (at the
	// same priority, all of it would come before).
	if after := len(sent) - at - 1; after < 20 {
		t.Errorf("the otp's send was number %d of %d, with %d broadcast sends before it started: want at least 20 of the broadcast's after it (its journeys at a lower priority)",
			at+1, len(sent), before)
	}
}
