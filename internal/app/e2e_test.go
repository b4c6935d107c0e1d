package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// summary lists the timeline's events as kind/channel/status/code, one
// string, so that a test can compare the story it tells.
func summary(tl workflows.Timeline) string {
	var parts []string
	for _, ev := range tl.Events {
		s := string(ev.Kind)
		if ev.Channel != "" {
			s += ":" + string(ev.Channel)
		}
		if ev.Kind == workflows.EventStatus {
			s += ":" + string(ev.Status)
		}
		if ev.Code != "" {
			s += ":" + ev.Code
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// The OTP journey to a number that WhatsApp reports failed (131026) ends
// delivered by SMS, through real signed HTTP callbacks from the sandbox to
// the webhook handlers, and signals into a real Temporal server.
func TestEndToEndOTPFallsBackToSMS(t *testing.T) {
	s := apptest.Start(t)
	run := s.RunOTP(t, sandbox.WhatsAppUndeliverable)
	res, tl := run.Result, run.Timeline
	if res.Outcome != workflows.OutcomeVerified || res.Channel != channels.SMS || !strings.HasPrefix(res.MessageID, "SM") {
		t.Errorf("result = %+v, want delivered on sms", res)
	}
	// The failed status carries no biz_opaque_callback_data (the sandbox
	// leaves it out, as Meta may): the message index found the journey. It
	// may come before the send returns (the journey holds it: the timeline
	// shows it before sent), never after the fallback.
	got := summary(tl)
	for _, want := range [][]string{
		{"attempt:whatsapp", "sent:whatsapp", "fallback:whatsapp"},
		{"attempt:whatsapp", "status:whatsapp:failed:131026", "fallback:whatsapp"},
		{"fallback:whatsapp", "attempt:sms sent:sms", "status:sms:delivered verify done:sms"},
	} {
		if !inOrder(got, want...) {
			t.Errorf("timeline %q lacks %q in that order", got, want)
		}
	}
	if tl.Outcome != workflows.OutcomeVerified {
		t.Errorf("timeline outcome = %s", tl.Outcome)
	}
}

// inOrder reports whether s holds each of parts, one after the other.
func inOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// recording reports whether this run records histories for the replay
// test (SWITCHBACK_RECORD_HISTORIES=DIR): they are kept in clear.
func recording() bool { return os.Getenv("SWITCHBACK_RECORD_HISTORIES") != "" }

func TestEndToEndOTPPaths(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	tests := []struct {
		to      string
		outcome workflows.Outcome
		channel channels.Channel
		events  []string // must appear in the timeline summary, in any order
	}{
		{sandbox.WhatsAppUndeliverable, workflows.OutcomeVerified, channels.SMS, []string{"status:whatsapp:failed:131026", "fallback:whatsapp", "status:sms:delivered"}},
		{"+15551234567", workflows.OutcomeVerified, channels.WhatsApp, []string{"status:whatsapp:delivered"}},
		{sandbox.WhatsAppWindowClosed, workflows.OutcomeVerified, channels.SMS, []string{"send_failed:whatsapp:131047", "fallback:whatsapp:131047"}},
		{sandbox.Unreachable, workflows.OutcomeFailed, "", []string{"status:whatsapp:failed:131026", "status:sms:failed:30003"}},
		{sandbox.SMSInvalid, workflows.OutcomeFailed, "", []string{"send_failed:sms:21211"}},
		{sandbox.WhatsAppRateLimited, workflows.OutcomeVerified, channels.WhatsApp, []string{"status:whatsapp:delivered"}},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			run := s.RunOTP(t, tt.to)
			res, tl := run.Result, run.Timeline
			if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
				s.WriteHistory(t, run.ID, filepath.Join(dir, "otp-"+strings.TrimPrefix(tt.to, "+")+".json"))
			}
			if res.Outcome != tt.outcome || res.Channel != tt.channel {
				t.Errorf("result = %+v, want %s on %q", res, tt.outcome, tt.channel)
			}
			if n := versionMarkers(t, s, run.ID); n != 0 {
				t.Errorf("history has %d version markers, want none: the journey was started by this build's code", n)
			}
			got := summary(tl)
			for _, w := range tt.events {
				if !strings.Contains(got, w) {
					t.Errorf("timeline %q lacks %q", got, w)
				}
			}
		})
	}
}

// versionMarkers counts the version markers in the history of journey id.
func versionMarkers(t *testing.T, s *apptest.Stack, id string) int {
	t.Helper()
	n := 0
	it := s.Client.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" {
			n++
		}
	}
	return n
}

// A repeated start with the same key returns the first journey and sends
// nothing new, while it runs and after it ended.
func TestEndToEndStartIsIdempotent(t *testing.T) {
	s := apptest.Start(t)
	ctx := context.Background()
	j, err := journeys.Builtin("otp", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	opts := journeys.StartOptions{Journey: j, To: sandbox.WhatsAppSilent, Vars: map[string]string{"code": "4242"}, ID: "order-42-otp", ContactKey: []byte(config.DevContactKey)}
	first, existed, err := journeys.Start(ctx, s.Client, opts)
	if err != nil || existed {
		t.Fatalf("first start: existed=%v err=%v", existed, err)
	}
	second, existed, err := journeys.Start(ctx, s.Client, opts)
	if err != nil || !existed || second.GetRunID() != first.GetRunID() {
		t.Fatalf("second start while running: run %s existed=%v err=%v, want run %s existed", second.GetRunID(), existed, err, first.GetRunID())
	}
	// Let the first journey send before it is cancelled.
	for deadline := time.Now().Add(10 * time.Second); len(s.Sandbox.Sent()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first journey sent nothing")
		}
	}
	if err := s.Client.CancelWorkflow(ctx, first.GetID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := first.Get(ctx, nil); err == nil {
		t.Fatal("cancelled journey ended without an error")
	}
	sent := len(s.Sandbox.Sent())
	third, existed, err := journeys.Start(ctx, s.Client, opts)
	if err != nil || !existed || third.GetRunID() != first.GetRunID() {
		t.Fatalf("start after the end: run %s existed=%v err=%v, want run %s existed", third.GetRunID(), existed, err, first.GetRunID())
	}
	if n := len(s.Sandbox.Sent()); n != sent || n != 1 {
		t.Errorf("sandbox received %d messages, want 1", n)
	}
}

// An order journey started by its first event (signal-with-start), fed a
// late event and its end, over real signals.
func TestEndToEndOrderUpdate(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx := context.Background()
	j, err := journeys.Builtin("order_update", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	opts := journeys.StartOptions{Journey: j, To: "+15551234567", Vars: map[string]string{"order_id": "A-7"}, ID: "order-A-7", ContactKey: []byte(config.DevContactKey)}
	run, err := journeys.SignalWithStart(ctx, s.Client, opts, journeys.EventInput{Name: "shipped", ID: "evt-1", Vars: map[string]string{"tracking_url": "https://track.example/A-7"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []journeys.EventInput{
		{Name: "shipped", ID: "evt-1"}, // a retried delivery of the same event
		{Name: "confirmed", ID: "evt-0"},
		{Name: "delivered", ID: "evt-2"},
	} {
		if err := journeys.Signal(ctx, s.Client, "order-A-7", ev); err != nil {
			t.Fatal(err)
		}
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeCompleted {
		t.Errorf("outcome = %s, want completed", res.Outcome)
	}
	var templates []string
	for _, m := range s.Sandbox.Sent() {
		templates = append(templates, m.Template)
	}
	if strings.Join(templates, ",") != "order_shipped,order_delivered" {
		t.Errorf("sent %v, want order_shipped then order_delivered", templates)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "order-A-7", filepath.Join(dir, "order_update.json"))
	}
}

// A support reply is free-form WhatsApp text: refused while the 24-hour
// window is closed, sent once the customer has written.
func TestEndToEndInboundOpensTheWindow(t *testing.T) {
	s := apptest.Start(t)
	ctx := context.Background()
	j, err := journeys.Parse("support.yaml", []byte(`
name: support_reply
purpose: utility
params: [text]
steps:
  - send:
      id: reply
      attempts:
        - {channel: whatsapp, session: "{{.text}}", within: 30s}
`), app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	const customer = "+15557654321"
	reply := func(id string) workflows.Result {
		t.Helper()
		run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{Journey: j, To: customer, ID: id,
			Vars: map[string]string{"text": "Your refund is on its way."}, ContactKey: []byte(config.DevContactKey)})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.Result
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := reply("support-1"); res.Outcome != workflows.OutcomeBlocked {
		t.Fatalf("before the customer wrote: outcome %s, want blocked (window closed)", res.Outcome)
	}
	if n := len(s.Sandbox.Sent()); n != 0 {
		t.Fatalf("sandbox received %d messages while the window was closed", n)
	}
	if err := s.Sandbox.CustomerWrites(ctx, customer, "Where is my refund?"); err != nil {
		t.Fatal(err)
	}
	if res := reply("support-2"); res.Outcome != workflows.OutcomeDelivered || res.Channel != channels.WhatsApp {
		t.Fatalf("after the customer wrote: %+v, want delivered on whatsapp", res)
	}
	sent := s.Sandbox.Sent()
	if len(sent) != 1 || sent[0].Type != "text" || sent[0].Body != "Your refund is on its way." {
		t.Errorf("sent = %+v, want one session text", sent)
	}
}
