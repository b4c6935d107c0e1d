package journeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/store"
)

// Signal sends an event to a running journey.
func Signal(ctx context.Context, c client.Client, id string, ev EventInput) error {
	if ev.Name == "" {
		return fmt.Errorf("signal journey %s: the event has no name", id)
	}
	if err := c.SignalWorkflow(ctx, id, "", SignalEvent, ev); err != nil {
		return fmt.Errorf("signal %s to journey %s: %w", ev.Name, id, err)
	}
	return nil
}

// SignalWithStart sends an event to the journey opts.ID, starting it first
// if it is not running, so that an event that comes before its journey is
// never lost (an order shipped before the order journey started).
func SignalWithStart(ctx context.Context, c client.Client, opts StartOptions, ev EventInput) (client.WorkflowRun, error) {
	if opts.ID == "" {
		return nil, fmt.Errorf("signal-with-start journey %q: an ID is required", opts.Journey.Name)
	}
	if ev.Name == "" {
		return nil, fmt.Errorf("signal-with-start journey %s: the event has no name", opts.ID)
	}
	if err := opts.Check(); err != nil {
		return nil, err
	}
	so := startOptions(opts, opts.ID)
	so.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	so.WorkflowExecutionErrorWhenAlreadyStarted = false
	run, err := c.SignalWithStartWorkflow(ctx, opts.ID, SignalEvent, ev, so, WorkflowType, opts.input())
	if err != nil {
		return nil, fmt.Errorf("signal-with-start %s to journey %s: %w", ev.Name, opts.ID, err)
	}
	return run, nil
}

// Verify checks a code the customer typed against the journey's code. An
// update that Temporal could not deliver because a workflow task failed
// (WorkflowNotReady) is tried again, a few times.
func Verify(ctx context.Context, c client.Client, id, code string) (VerifyResult, error) {
	var h client.WorkflowUpdateHandle
	var err error
	for try, wait := 0, 100*time.Millisecond; ; try, wait = try+1, wait*2 {
		h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   id,
			UpdateName:   UpdateVerify,
			Args:         []any{code},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var notReady *serviceerror.WorkflowNotReady
		if !errors.As(err, &notReady) || try == 4 {
			break
		}
		select {
		case <-ctx.Done():
			return VerifyResult{}, fmt.Errorf("verify code for journey %s: %w", id, ctx.Err())
		case <-time.After(wait):
		}
	}
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify code for journey %s: %w", id, err)
	}
	var res VerifyResult
	if err := h.Get(ctx, &res); err != nil {
		return VerifyResult{}, fmt.Errorf("verify code for journey %s: %w", id, err)
	}
	return res, nil
}

// Cancel cancels a running journey; pending sends and waits stop.
func Cancel(ctx context.Context, c client.Client, id string) error {
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		return fmt.Errorf("cancel journey %s: %w", id, err)
	}
	return nil
}

// GetTimeline returns a journey's timeline.
func GetTimeline(ctx context.Context, c client.Client, id string) (Timeline, error) {
	var tl Timeline
	if err := Query(ctx, c, id, QueryTimeline, &tl); err != nil {
		return Timeline{}, err
	}
	return tl, nil
}

// Querier asks a workflow a query; client.Client is one.
type Querier interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// Query asks the running or closed workflow id the query name, whose
// handler never fails, and decodes its answer into out.
//
// A worker may fail such a query all the same (serviceerror.QueryFailed):
// when it no longer holds the workflow's state, it rebuilds it from the
// history, and a history read while a workflow task completes can be ahead
// of what the query task expects, which the Go SDK reports as an invalid
// state transition (temporalio/sdk-go#755). Query asks again, up to three
// more times, a short pause apart; a failure that persists is returned.
func Query(ctx context.Context, q Querier, id, name string, out any) error {
	pauses := [...]time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond}
	for i := 0; ; i++ {
		v, err := q.QueryWorkflow(ctx, id, "", name)
		var failed *serviceerror.QueryFailed
		if errors.As(err, &failed) && i < len(pauses) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("query %s of %s: %w", name, id, err)
			case <-time.After(pauses[i]):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("query %s of %s: %w", name, id, err)
		}
		if err := v.Get(out); err != nil {
			return fmt.Errorf("decode %s of %s: %w", name, id, err)
		}
		return nil
	}
}

// EventLog reads the message event log; store.Store is one.
type EventLog interface {
	Events(ctx context.Context, f store.EventFilter) ([]store.MessageEvent, error)
}

// ReadTimeline returns a journey's timeline as people read it: with the
// delivery statuses that the webhooks recorded in log instead of
// signalling them to the journey (Timeline.AddRecorded). A nil log reads
// the journey's own timeline only.
func ReadTimeline(ctx context.Context, c client.Client, log EventLog, id string) (Timeline, error) {
	tl, err := GetTimeline(ctx, c, id)
	if err != nil || log == nil {
		return tl, err
	}
	evs, err := log.Events(ctx, store.EventFilter{WorkflowID: id})
	if err != nil {
		return Timeline{}, fmt.Errorf("event log of %s: %w", id, err)
	}
	tl.AddRecorded(evs)
	return tl, nil
}

// WaitSettled returns the journey's timeline once the journey has ended or
// waits only for the customer or the backend (a code to verify, an event),
// polling every interval (default 250ms).
func WaitSettled(ctx context.Context, c client.Client, id string, interval time.Duration) (Timeline, error) {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		tl, err := GetTimeline(ctx, c, id)
		if err != nil {
			return Timeline{}, err
		}
		if tl.Outcome != OutcomeRunning || tl.Awaiting != "" {
			return tl, nil
		}
		select {
		case <-ctx.Done():
			return Timeline{}, fmt.Errorf("wait for journey %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}
