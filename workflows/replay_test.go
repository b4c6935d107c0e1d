package workflows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/switchbackhq/switchback/journeys"
)

// TestReplayRecordedHistories replays journeys recorded from a real server
// (testdata/*.json, written by the end-to-end tests with
// SWITCHBACK_RECORD_HISTORIES=workflows/testdata). It fails when a change to
// the workflow would break journeys already running: guard such a change
// with workflow.GetVersion, and keep the old histories.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories under testdata/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			Register(r, testOptions)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// A journey started by this build's code (Input.Code) whose first task an
// older worker ran has the marker anyway: it replays, the marker skipped.
func TestReplayCurrentCodeWithMarker(t *testing.T) {
	f, err := os.Open("testdata/v8-otp-15551234567.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	var in map[string]any
	if err := json.Unmarshal(p.Data, &in); err != nil {
		t.Fatal(err)
	}
	in["switchback_code"] = journeys.CurrentCode
	if p.Data, err = json.Marshal(in); err != nil {
		t.Fatal(err)
	}
	markers := 0
	for _, ev := range h.Events {
		if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" {
			markers++
		}
	}
	if markers == 0 {
		t.Fatal("the recorded history has no version marker to skip")
	}
	r := worker.NewWorkflowReplayer()
	Register(r, testOptions)
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("replay with the starter's code set: %v", err)
	}
}
