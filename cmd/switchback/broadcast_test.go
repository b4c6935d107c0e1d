package main

import (
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// TestBroadcastStartRefuses: a broadcast that could not run is refused
// before anything starts, with exit status 2 and the reason.
func TestBroadcastStartRefuses(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := storeCLI(t, dir, "segment", "save", "vips", "--tags", "vip"); code != 0 {
		t.Fatalf("segment save: %s", errOut)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"start", "otp", "--var", "code=123456"}, "--segment is required"},
		{[]string{"start", "nope", "--segment", "vips"}, `"nope"`},
		{[]string{"start", "otp", "--segment", "vips"}, "code"},
		{[]string{"start", "otp", "--segment", "vips", "--var", "code=123456", "--rate", "0"}, "--rate 0"},
		{[]string{"start", "otp", "--segment", "vips", "--var", "code=123456", "--id", "a/b"}, `--id: broadcast id "a/b"`},
		{[]string{"start", "otp", "--segment", "nobody", "--var", "code=123456"}, `--segment "nobody": no such segment`},
		{[]string{"start"}, "give one journey name"},
		{[]string{"status"}, "give one broadcast id"},
		{[]string{"pause", "a", "b"}, "give one broadcast id"},
		{[]string{"stop", "a"}, `unknown subcommand "stop"`},
		{nil, "give a subcommand"},
	}
	for _, tt := range tests {
		code, out, errOut := storeCLI(t, dir, append([]string{"broadcast"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("broadcast %q = %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	tests := []struct {
		done, total int
		want        string
	}{
		{0, 10, "[..........]   0%"},
		{58, 100, "[#####.....]  58%"},
		{10, 10, "[##########] 100%"},
		{12, 10, "[##########] 100%"}, // the segment shrank
		{0, 0, "[##########] 100%"},
	}
	for _, tt := range tests {
		if got := progressBar(tt.done, tt.total, 10); got != tt.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestPrintBroadcast(t *testing.T) {
	var b strings.Builder
	printBroadcast(&b, workflows.BroadcastStatus{ID: "sale-1", Journey: "otp", Segment: "vip", Phase: workflows.PhasePaused,
		Total: 100, Started: 50, AlreadyStarted: 5, Skipped: map[activities.SkipReason]int{activities.SkipNoNumber: 2, activities.SkipGone: 1},
		Remaining: 42, Delivered: 40, Failed: 3, Rate: 12.5, Limit: 50, Runs: 2,
		PauseClass: store.ClassTemplatePaused, PauseReason: "template promo (en_US) is PAUSED", TierWaits: 1})
	out := b.String()
	wantOutput(t, "status", out, "[#################.............]  58%  58 of 100", "phase      paused",
		"paused     template_paused: template promo (en_US) is PAUSED (resume: switchback broadcast resume sale-1)",
		"skipped    3 (contact-gone 1, no-number 2)", "delivered  40", "failed     3", "remaining  42", "rate       12.5/s (at most 50/s)",
		"tier waits 1")
}
