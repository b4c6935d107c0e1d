package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/journeys"
)

func workflowOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: journeys.WorkflowType}
}

// Register registers Switchback's workflows with r, e.g. a worker.Worker.
func Register(r interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}) {
	r.RegisterWorkflowWithOptions(Journey, workflowOptions())
}
