package main

import (
	"context"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
)

func runCancel(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cancel", "cancel WORKFLOW_ID")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one workflow id"}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	c, err := dial(ctx, cfg, newLogger(e))
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(ctx, pos[0], "")
	if err != nil {
		return fmt.Errorf("cancel %s: %w", pos[0], err)
	}
	if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		fmt.Fprintf(e.stdout, "journey %s has already ended (%s): nothing to cancel\n", pos[0], strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")))
		return nil
	}
	if err := c.CancelWorkflow(ctx, pos[0], ""); err != nil {
		return fmt.Errorf("cancel %s: %w", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "cancellation requested for %s\n", pos[0])
	return nil
}
