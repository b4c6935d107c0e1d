package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// A backend in another language starts journeys with the documented JSON
// input naming a built-in journey and no search attributes: they run, fall
// back, verify, and get every search attribute from the worker, so that
// `list` and the Web UI's filters find them. With
// SWITCHBACK_RECORD_HISTORIES=DIR their histories are recorded for the
// replay test (v5-*-byname-*).
func TestEndToEndStartByName(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, to := range []string{"+15551234567", sandbox.WhatsAppUndeliverable} {
		id := "byname-otp-" + strings.TrimPrefix(to, "+")
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: journeys.TaskQueue}, journeys.WorkflowType,
			map[string]any{"journey": "otp", "to": to, "vars": map[string]string{"code": "493817"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := journeys.WaitSettled(ctx, s.Client, id, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if r, err := journeys.Verify(ctx, s.Client, id, "000000"); err != nil || r.Verified {
			t.Fatalf("%s: wrong code = %+v, %v", id, r, err)
		}
		if r, err := journeys.Verify(ctx, s.Client, id, "493817"); err != nil || !r.Verified {
			t.Fatalf("%s: right code = %+v, %v", id, r, err)
		}
		var res workflows.Result
		if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.OutcomeVerified {
			t.Fatalf("%s: %+v, %v", id, res, err)
		}
		assertSearchAttributes(t, s, id)
		if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
			s.WriteHistory(t, id, filepath.Join(dir, "v5-otp-byname-"+strings.TrimPrefix(to, "+")+".json"))
		}
	}

	// An order journey by name, started by its first event.
	id := "byname-order-A-8"
	run, err := s.Client.SignalWithStartWorkflow(ctx, id, journeys.SignalEvent, journeys.EventInput{Name: "shipped", ID: "e1"},
		client.StartWorkflowOptions{TaskQueue: journeys.TaskQueue}, journeys.WorkflowType,
		map[string]any{"journey": "order_update", "to": "+15551234567", "vars": map[string]string{"order_id": "A-8"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []journeys.EventInput{
		{Name: "shipped", ID: "e2", Vars: map[string]string{"tracking_url": "https://track.example/A-8"}},
		{Name: "delivered", ID: "e3"},
	} {
		if err := journeys.Signal(ctx, s.Client, id, ev); err != nil {
			t.Fatal(err)
		}
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.OutcomeCompleted {
		t.Fatalf("%s: %+v, %v", id, res, err)
	}
	assertSearchAttributes(t, s, id)
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, id, filepath.Join(dir, "v5-order_update-byname.json"))
	}

	// An unknown name fails the journey at once, naming it.
	run, err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "byname-unknown", TaskQueue: journeys.TaskQueue}, journeys.WorkflowType,
		map[string]any{"journey": "otpp", "to": "+15551234567"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), `"otpp"`) {
		t.Errorf("unknown journey name: %v, want a failure naming it", err)
	}

	// A journey without its variable fails at its start, and its outcome
	// says so (recorded: the start-failure path, v9-*).
	id = "byname-otp-novars"
	run, err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: journeys.TaskQueue}, journeys.WorkflowType,
		map[string]any{"journey": "otp", "to": "+15551234567"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), "code") {
		t.Errorf("otp without its code: %v, want a failure naming the variable", err)
	}
	d, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	var outcome string
	p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[journeys.OutcomeAttr.GetName()]
	if err := converter.GetDefaultDataConverter().FromPayload(p, &outcome); err != nil || outcome != string(workflows.OutcomeFailed) {
		t.Errorf("%s: outcome %q (%v), want failed", id, outcome, err)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, id, filepath.Join(dir, "v9-otp-byname-novars.json"))
	}
}

// assertSearchAttributes checks that the journey id has every Switchback
// search attribute.
func assertSearchAttributes(t *testing.T, s *apptest.Stack, id string) {
	t.Helper()
	ctx := context.Background()
	d, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	fields := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for _, name := range journeys.SearchAttributeNames() {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s: no %s search attribute", id, name)
		}
	}
}
