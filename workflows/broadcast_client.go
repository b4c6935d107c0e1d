package workflows

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// broadcastID is what a broadcast id may be: it starts the workflow ids of
// its journeys, before a '/' it never holds.
var broadcastID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// CheckBroadcastID reports what is wrong with a broadcast id.
func CheckBroadcastID(id string) error {
	if !broadcastID.MatchString(id) {
		return fmt.Errorf("broadcast id %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// NewBroadcastID returns a new broadcast id for a journey and a segment.
func NewBroadcastID(journey, segment string) string {
	id := journey + "-" + segment
	if len(id) > 46 {
		id = id[:46]
	}
	return id + "-" + strings.ToLower(rand.Text()[:12])
}

// StartBroadcast starts the Broadcast workflow id with in. A broadcast
// with this id that runs or ran (unless it failed) is not started again:
// existed is true and nothing is sent. A failed one may be started again:
// its journeys that exist count as already started.
func StartBroadcast(ctx context.Context, c client.Client, id string, in BroadcastInput) (runID string, existed bool, err error) {
	if err := CheckBroadcastID(id); err != nil {
		return "", false, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                journeys.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, BroadcastWorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return started.RunId, true, nil
	case err != nil:
		return "", false, fmt.Errorf("start broadcast %s: %w", id, err)
	}
	return run.GetRunID(), false, nil
}

// DeliveryCounter counts deliveries in the message event log
// (store.Store.Deliveries).
type DeliveryCounter interface {
	Deliveries(ctx context.Context, prefix string) (store.Deliveries, error)
}

// GetBroadcastStatus queries a broadcast's status and, when d is not nil,
// adds the deliveries of its journeys from the message event log: counted
// by the store over the journeys' ids, so that the broadcast keeps no
// record per recipient.
func GetBroadcastStatus(ctx context.Context, c client.Client, d DeliveryCounter, id string) (BroadcastStatus, error) {
	var s BroadcastStatus
	if err := journeys.Query(ctx, c, id, QueryBroadcastStatus, &s); err != nil {
		return BroadcastStatus{}, err
	}
	if d == nil {
		return s, nil
	}
	n, err := d.Deliveries(ctx, activities.JourneyID(id, ""))
	if err != nil {
		return BroadcastStatus{}, fmt.Errorf("deliveries of broadcast %s: %w", id, err)
	}
	s.Delivered, s.Failed = n.Delivered, n.Failed
	return s, nil
}

// TransitionError is a broadcast's refusal of a pause, resume or cancel
// that its phase does not allow; its message names both.
type TransitionError struct{ Msg string }

func (e *TransitionError) Error() string { return e.Msg }

// SteerBroadcast sends a broadcast the update UpdatePause, UpdateResume or
// UpdateCancel and returns its status after it. One its phase does not
// allow fails with a *TransitionError.
func SteerBroadcast(ctx context.Context, c client.Client, id, update string) (BroadcastStatus, error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: update, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var s BroadcastStatus
	if err == nil {
		err = h.Get(ctx, &s)
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == BadTransitionType {
		return BroadcastStatus{}, &TransitionError{Msg: ae.Message()}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// An ended broadcast takes no update: say so, naming its phase,
		// rather than "workflow execution already completed".
		if st, qerr := GetBroadcastStatus(ctx, c, nil, id); qerr == nil && st.Phase.Ended() {
			return BroadcastStatus{}, &TransitionError{Msg: fmt.Sprintf("cannot %s broadcast %s: it is %s", update, id, st.Phase)}
		}
	}
	if err != nil {
		return BroadcastStatus{}, fmt.Errorf("%s broadcast %s: %w", update, id, err)
	}
	return s, nil
}

// RunHistories returns the number of history events of each run of the
// workflow id, first to last, following its continue-as-new chain.
func RunHistories(ctx context.Context, c client.Client, id string) ([]int, error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", id, err)
	}
	var sizes []int
	for run := d.GetWorkflowExecutionInfo().GetFirstRunId(); run != ""; {
		it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n, next := 0, ""
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s run %s: %w", id, run, err)
			}
			n++
			if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
		}
		sizes = append(sizes, n)
		run = next
	}
	return sizes, nil
}
