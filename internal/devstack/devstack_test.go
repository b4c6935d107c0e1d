package devstack

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

var testAttrs = map[string]enumspb.IndexedValueType{
	"SwitchbackJourney": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"SwitchbackContact": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"SwitchbackOutcome": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testLogger sends server logs to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func startStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v", time.Since(begin))
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func dial(t *testing.T, s *Stack) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendAddr(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.FrontendAddr(), err)
	}
	t.Cleanup(c.Close)
	return c
}

func startWorker(t *testing.T, c client.Client, queue string, wf any) worker.Worker {
	t.Helper()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "Test"})
	if err := w.Start(); err != nil {
		t.Fatalf("worker start: %v", err)
	}
	return w
}

func greet(ctx workflow.Context, name string) (string, error) {
	return "hello " + name, nil
}

func TestInMemory(t *testing.T) {
	s := startStack(t, Options{
		InMemory:         true,
		Namespace:        "switchback-test",
		FrontendAddr:     freeAddr(t),
		UIAddr:           freeAddr(t),
		SearchAttributes: testAttrs,
		Logger:           testLogger(t),
	})
	if s.Namespace() != "switchback-test" {
		t.Errorf("Namespace() = %q", s.Namespace())
	}
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := c.WorkflowService().DescribeNamespace(ctx, nsRequest(s.Namespace())); err != nil {
		t.Fatalf("DescribeNamespace: %v", err)
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.Namespace()})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for name, want := range testAttrs {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != want {
			t.Errorf("search attribute %s: got %v (present %v), want %v", name, got, ok, want)
		}
	}

	w := startWorker(t, c, "tq", greet)
	defer w.Stop()
	journey := temporal.NewSearchAttributeKeyKeyword("SwitchbackJourney")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "greet",
		TaskQueue:             "tq",
		TypedSearchAttributes: temporal.NewSearchAttributes(journey.ValueSet("otp")),
	}, "Test", "world")
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if got != "hello world" {
		t.Errorf("workflow result = %q, want %q", got, "hello world")
	}

	if s.UIURL() == "" {
		t.Fatal("UIURL() is empty with the UI enabled")
	}
	res, err := http.Get(s.UIURL())
	if err != nil {
		t.Fatalf("GET %s: %v", s.UIURL(), err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET %s: status %d", s.UIURL(), res.StatusCode)
	}
}

func waitForSignal(ctx workflow.Context) (string, error) {
	var v string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &v)
	return "got " + v, nil
}

func TestFileRestartKeepsWorkflows(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// First run: start a workflow that waits for a signal. One search
	// attribute is left out, to be added by the second run.
	firstAttrs := maps.Clone(testAttrs)
	delete(firstAttrs, "SwitchbackOutcome")
	s1 := startStack(t, Options{
		DataDir:          dir,
		FrontendAddr:     freeAddr(t),
		DisableUI:        true,
		SearchAttributes: firstAttrs,
		Logger:           testLogger(t),
	})
	if s1.UIURL() != "" {
		t.Errorf("UIURL() = %q with the UI disabled", s1.UIURL())
	}
	c1 := dial(t, s1)
	w1 := startWorker(t, c1, "tq", waitForSignal)
	run, err := c1.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "waiter", TaskQueue: "tq"}, "Test")
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	// Wait until the first workflow task has completed, so the restart
	// happens mid-workflow rather than before it began.
	for {
		desc, err := c1.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err != nil {
			t.Fatalf("DescribeWorkflowExecution: %v", err)
		}
		if desc.GetWorkflowExecutionInfo().GetHistoryLength() >= 4 { // started, task scheduled, started, completed
			break
		}
		if ctx.Err() != nil {
			t.Fatal("workflow did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w1.Stop()
	c1.Close()
	begin := time.Now()
	if err := s1.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(begin))
	if _, err := os.Stat(filepath.Join(dir, DatabaseFile)); err != nil {
		t.Fatalf("database file: %v", err)
	}
	// A copy of the files, opened through a fresh connection below, proves
	// the data is on disk and not only in the SQLite connection that the
	// server's plugin keeps open for the life of the process.
	copyDir := t.TempDir()
	if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
		t.Fatalf("copying data directory: %v", err)
	}

	// Second run on the same directory, on another port.
	s2 := startStack(t, Options{
		DataDir:          dir,
		FrontendAddr:     freeAddr(t),
		DisableUI:        true,
		SearchAttributes: testAttrs,
		Logger:           testLogger(t),
	})
	c2 := dial(t, s2)
	resp, err := c2.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s2.Namespace()})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for name, want := range testAttrs {
		if got := resp.GetCustomAttributes()[name]; got != want {
			t.Errorf("after restart, search attribute %s = %v, want %v", name, got, want)
		}
	}
	w2 := startWorker(t, c2, "tq", waitForSignal)
	defer w2.Stop()
	if err := c2.SignalWorkflow(ctx, "waiter", "", "go", "now"); err != nil {
		t.Fatalf("SignalWorkflow after restart: %v", err)
	}
	var got string
	if err := c2.GetWorkflow(ctx, "waiter", run.GetRunID()).Get(ctx, &got); err != nil {
		t.Fatalf("workflow after restart: %v", err)
	}
	if got != "got now" {
		t.Errorf("workflow result = %q, want %q", got, "got now")
	}

	// The copy made after the first run still holds the waiting workflow.
	s3 := startStack(t, Options{
		DataDir:      copyDir,
		FrontendAddr: freeAddr(t),
		DisableUI:    true,
		Logger:       testLogger(t),
	})
	desc, err := dial(t, s3).DescribeWorkflowExecution(ctx, "waiter", run.GetRunID())
	if err != nil {
		t.Fatalf("DescribeWorkflowExecution on the copy: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("workflow on the copy: status %v, want running", st)
	}
}

func TestCheckPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	free := freeAddr(t)

	if err := CheckPorts(NamedAddr{Name: "free", Addr: free}); err != nil {
		t.Errorf("CheckPorts(free) = %v", err)
	}

	err = CheckPorts(
		NamedAddr{Name: "free", Addr: free},
		NamedAddr{Name: "Temporal frontend", Addr: busy, Flag: "--temporal-port"},
	)
	var pe *PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("CheckPorts(busy) = %v, want *PortInUseError", err)
	}
	if pe.Addr != busy {
		t.Errorf("PortInUseError.Addr = %q, want %q", pe.Addr, busy)
	}
	want := "port " + busy + " (Temporal frontend) is already in use; choose another with --temporal-port"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}

	if err := CheckPorts(NamedAddr{Addr: "not an address"}); err == nil || errors.As(err, &pe) {
		t.Errorf("CheckPorts(malformed) = %v, want a plain error", err)
	}
}

func TestStartPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()

	_, err = Start(context.Background(), Options{
		InMemory:     true,
		FrontendAddr: freeAddr(t),
		UIAddr:       busy,
	})
	var pe *PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("Start with a busy UI port = %v, want *PortInUseError", err)
	}
	if pe.Name != UIName || pe.Addr != busy {
		t.Errorf("PortInUseError = %+v, want Name %q Addr %q", pe, UIName, busy)
	}
	if !strings.Contains(err.Error(), busy) {
		t.Errorf("message %q does not name %s", err.Error(), busy)
	}
}

func nsRequest(ns string) *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: ns}
}
