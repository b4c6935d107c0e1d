package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// The support_menu built-in end to end in the sandbox: the customer
// writes, gets the menu as a WhatsApp list, picks "Opening hours" (a
// signed list_reply webhook), and the journey answers on that row's
// branch. Under SWITCHBACK_RECORD_HISTORIES its history is recorded for
// the replay test.
func TestEndToEndSupportMenu(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx := context.Background()
	j, err := journeys.Builtin("support_menu", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	const id, customer = "support-1", "+15551234567"
	run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{Journey: j, To: customer, ID: id, ContactKey: []byte(config.DevContactKey)})
	if err != nil {
		t.Fatal(err)
	}
	// The inbound webhook finds the journey by its contact: write once
	// visibility lists it.
	query := fmt.Sprintf("%s = %q AND ExecutionStatus = 'Running'", journeys.ContactAttr.GetName(), journeys.ContactKey([]byte(config.DevContactKey), customer))
	waitFor(t, "the journey in visibility", func() (bool, bool) {
		resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return true, err == nil && len(resp.GetExecutions()) == 1
	})
	if err := s.Sandbox.CustomerWrites(ctx, customer, "Hi, I have a question"); err != nil {
		t.Fatal(err)
	}
	menu := waitFor(t, "the menu", func() (sandbox.SentMessage, bool) {
		for _, m := range s.Sandbox.Sent() {
			if m.Type == "interactive" {
				return m, true
			}
		}
		return sandbox.SentMessage{}, false
	})
	if len(menu.Choices) != 3 || !menu.Choices[2].List || menu.Choices[2].ID != "opening_hours" {
		t.Fatalf("menu offers %+v, want the three rows of a list", menu.Choices)
	}
	if err := s.Sandbox.CustomerChooses(ctx, customer, "opening_hours"); err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, id, filepath.Join(dir, "v7-support_menu.json"))
	}
	if res.Outcome != workflows.OutcomeCompleted {
		t.Errorf("outcome %s, want completed", res.Outcome)
	}
	sent := s.Sandbox.Sent()
	if len(sent) != 2 || sent[1].Type != "text" || sent[1].Body != "We answer Monday to Friday, 9:00 to 18:00." {
		t.Errorf("sent %+v, want the menu then the opening hours", sent)
	}
}
