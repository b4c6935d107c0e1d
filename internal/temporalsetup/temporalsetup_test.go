package temporalsetup_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/switchbackhq/switchback/internal/temporalsetup"
	"github.com/switchbackhq/switchback/journeys"
)

func TestRun(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	opts := temporalsetup.Options{
		Client:           client.Options{HostPort: srv.GetFrontendHostPort(), Namespace: "switchback"},
		Retention:        36 * time.Hour,
		SearchAttributes: journeys.SearchAttributeNames(),
		Wait:             time.Minute,
	}
	ctx := context.Background()
	// Twice: the second run finds everything in place.
	for range 2 {
		if err := temporalsetup.Run(ctx, opts); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.GetDefaultClient()
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "switchback"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != 36*time.Hour {
		t.Errorf("retention %s, want 36h", got)
	}
	attrs, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "switchback"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range journeys.SearchAttributeNames() {
		if got := attrs.GetCustomAttributes()[name]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s: %s, want Keyword", name, got)
		}
	}
}

func TestRunWrongType(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	ctx := context.Background()
	ns := srv.GetDefaultNamespace()
	if _, err := srv.GetDefaultClient().OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: map[string]enumspb.IndexedValueType{"SwitchbackOutcome": enumspb.INDEXED_VALUE_TYPE_TEXT},
	}); err != nil {
		t.Fatal(err)
	}
	err := temporalsetup.Run(ctx, temporalsetup.Options{
		Client:           client.Options{HostPort: srv.GetFrontendHostPort(), Namespace: ns},
		SearchAttributes: journeys.SearchAttributeNames(),
		Wait:             time.Minute,
	})
	var te *temporalsetup.TypeError
	if !errors.As(err, &te) || te.Name != "SwitchbackOutcome" {
		t.Fatalf("Run: %v, want a TypeError for SwitchbackOutcome", err)
	}
}

// A frontend that never answers: Run gives up when Wait passes, naming
// what it waited for.
func TestRunWaitsForFrontend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	err = temporalsetup.Run(context.Background(), temporalsetup.Options{
		Client: client.Options{HostPort: addr, Namespace: "switchback"},
		Wait:   2 * time.Second,
	})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v, want a deadline error", err)
	}
	if time.Since(start) < 2*time.Second {
		t.Errorf("Run gave up after %s, before Wait", time.Since(start))
	}
}
