package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// A journey that has ended says so, with its outcome and exit status 3,
// to verify and signal; and status prints it with a final newline.
func TestEndedJourney(t *testing.T) {
	s := apptest.Start(t)
	ctx := context.Background()
	const to = "+15551239001"
	key := journeys.ContactKey(s.Config.ContactKeyOrDefault(), to)
	for _, ch := range []channels.Channel{channels.WhatsApp, channels.SMS} {
		if err := s.Store.Suppress(ctx, store.Suppression{ContactKey: key, Channel: ch, Reason: store.ReasonOptOut, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := cli(t, s, "start", "otp", "--to", to, "--var", "code=493817", "--id", "ended-1", "--wait"); code != 1 || !strings.Contains(errOut, "blocked") {
		t.Fatalf("start of a blocked journey = %d %q", code, errOut)
	}
	code, out, _ := cli(t, s, "status", "ended-1")
	if code != 0 || !strings.Contains(out, "(otp): blocked") || !strings.HasSuffix(out, "\n") {
		t.Errorf("status = %d %q, want the blocked journey ending with a newline", code, out)
	}
	for _, args := range [][]string{{"verify", "ended-1", "493817"}, {"signal", "ended-1", "reply"}} {
		code, out, errOut := cli(t, s, args...)
		if want := "journey ended-1 has ended (outcome blocked)"; code != exitEnded || !strings.Contains(errOut, want) || out != "" {
			t.Errorf("%v = %d %q %q, want %d and %q", args, code, out, errOut, exitEnded, want)
		}
	}
	if code, _, errOut := cli(t, s, "signal", "no-such-journey", "reply"); code != 1 || !strings.Contains(errOut, "no journey with id no-such-journey") {
		t.Errorf("signal to no journey = %d %q", code, errOut)
	}
}

// An event its handler would ignore is refused before anything is sent,
// with signal-with-start and without; a start param may come from --var.
func TestSignalChecksEventParams(t *testing.T) {
	s := apptest.Start(t)
	ctx := context.Background()
	const to = "+15551239002"
	code, out, errOut := cli(t, s, "signal", "order-B1", "shipped", "--var", "order_id=B1", "--start", "order_update", "--to", to)
	if code != exitEventIgnored || out != "" || !strings.Contains(errOut, `event "shipped" needs tracking_url (pass --var tracking_url=...); nothing was sent`) {
		t.Errorf("shipped without tracking_url = %d %q %q", code, out, errOut)
	}
	var notFound *serviceerror.NotFound
	if _, err := s.Client.DescribeWorkflowExecution(ctx, "order-B1", ""); !errors.As(err, &notFound) {
		t.Fatalf("a refused signal-with-start started the journey: %v", err)
	}
	// The README's form: the journey's order_id comes from --var.
	if code, out, errOut = cli(t, s, "signal", "order-B1", "confirmed", "--var", "order_id=B1", "--start", "order_update", "--to", to); code != 0 || !strings.Contains(out, "sent confirmed to order-B1") {
		t.Fatalf("signal --var --start = %d %q %q", code, out, errOut)
	}
	if code, _, errOut = cli(t, s, "signal", "order-B1", "shipped", "--var", "tracking_url=track/B1"); code != exitEventIgnored || !strings.Contains(errOut, "not an absolute http(s) URL") {
		t.Errorf("shipped with a relative url = %d %q", code, errOut)
	}
	if code, _, errOut = cli(t, s, "signal", "order-B1", "shipped", "--var", "tracking_url=https://track.example/B1"); code != 0 {
		t.Fatalf("shipped = %d %q", code, errOut)
	}
	tl, err := journeys.WaitSettled(ctx, s.Client, "order-B1", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var shipped []workflows.Event
	for _, ev := range tl.Events {
		if ev.Kind == journeys.EventReceived && ev.Name == "shipped" {
			shipped = append(shipped, ev)
		}
	}
	if len(shipped) != 1 || shipped[0].Reason != "" {
		t.Errorf("timeline has shipped events %+v, want the one with a tracking url", shipped)
	}
}

func TestLoadJourneyNameAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mine.yaml")
	spec := "name: my_journey\npurpose: utility\nsteps:\n  - send: {id: s, attempts: [{channel: sms, text: hi}]}\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, pos := range [][]string{{"my_journey"}, nil} {
		if j, err := loadJourney(file, pos); err != nil || j.Name != "my_journey" {
			t.Errorf("loadJourney(%v) = %q, %v", pos, j.Name, err)
		}
	}
	code, _, errOut := cli(t, nil, "start", "other", "--file", file, "--to", "+15551234567")
	if want := `defines journey "my_journey", not "other"`; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("start with a name that is not the file's = %d %q, want 2 and %q", code, errOut, want)
	}
}

func TestPrintTimelineLines(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	tl := workflows.Timeline{Journey: "otp", Outcome: journeys.OutcomeBlocked, Events: []workflows.Event{
		{Time: at, Kind: journeys.EventStarted},
		{Time: at, Kind: journeys.EventSkipped, Attempt: 1, Channel: channels.WhatsApp, Reason: "eligibility unknown: store down\nretry later\t"},
		{Time: at, Kind: journeys.EventDone, Reason: "step code: every attempt was skipped\n"},
	}}
	var b strings.Builder
	printTimeline(&b, "j1", tl)
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasSuffix(out, "skipped\n") || len(lines) != 7 {
		t.Errorf("timeline, want 7 lines (journey, started, blank, columns, 3 events) ending with a newline:\n%q", out)
	}
	if !strings.Contains(out, "store down retry later") {
		t.Errorf("a reason with a newline is not kept on its line:\n%s", out)
	}
}
