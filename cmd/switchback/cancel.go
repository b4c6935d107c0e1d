package main

import (
	"context"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
)

func runCancel(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cancel", "cancel WORKFLOW_ID")
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		fmt.Fprintf(e.stdout, "journey %s has already ended (%s): nothing to cancel\n", id, strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")))
		return nil
	}
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "cancellation requested for %s\n", id)
	return nil
}
