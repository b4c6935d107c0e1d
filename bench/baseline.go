package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// Names of the baseline's workflow, activity and task queue.
const (
	BaselineWorkflowName = "BenchBaseline"
	BaselineActivityName = "BenchSend"
	BaselineTaskQueue    = "bench-baseline"
	// SinkWorkflowName takes status signals and does nothing else: the
	// target of the webhook ingestion benchmark.
	SinkWorkflowName = "BenchSink"
)

// BaselineInput is the input of the baseline workflow: send code to To on
// each channel in turn until one reports delivered.
type BaselineInput struct {
	To       string             `json:"to"`
	Code     string             `json:"code"`
	Channels []channels.Channel `json:"channels"`
	Within   time.Duration      `json:"within"`
}

// Baseline is the hand-written minimal Temporal workflow of a journey's
// shape: per channel, one activity that sends through the provider (the
// same sandbox, through the same HTTP clients), then a wait for the status
// signal with a timer. It has no timeline, no search attributes, no
// journey spec and no handling of out-of-order statuses beyond matching the
// message id: what a team would write without Switchback. It returns the
// channel that delivered, or "failed".
func Baseline(ctx workflow.Context, in BaselineInput) (string, error) {
	statuses := workflow.GetSignalChannel(ctx, workflows.SignalStatus)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	})
	for i, ch := range in.Channels {
		msg := channels.Message{Channel: ch, To: in.To, Correlation: channels.Correlation{
			WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Attempt: i + 1,
		}}
		if ch == channels.WhatsApp {
			msg.Template = &channels.Template{Name: "otp_code", Language: "en_US", Body: []string{in.Code}, ButtonURL: []string{in.Code}}
		} else {
			msg.Text = "Your verification code is " + in.Code
		}
		var sent channels.SendResult
		if err := workflow.ExecuteActivity(actx, BaselineActivityName, msg).Get(ctx, &sent); err != nil {
			continue // refused: next channel
		}
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, in.Within)
		var delivered, done bool
		for !done {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(statuses, func(c workflow.ReceiveChannel, _ bool) {
				var u channels.StatusUpdate
				c.Receive(ctx, &u)
				if u.MessageID == sent.MessageID {
					delivered = u.Status.Reached(channels.StatusDelivered)
					done = delivered || u.Status == channels.StatusFailed
				}
			})
			sel.AddFuture(timer, func(workflow.Future) { done = true })
			sel.Select(ctx)
		}
		cancel()
		if delivered {
			return string(ch), nil
		}
	}
	return "failed", nil
}

// Sink receives status signals until it is terminated.
func Sink(ctx workflow.Context) error {
	statuses := workflow.GetSignalChannel(ctx, workflows.SignalStatus)
	for {
		var u channels.StatusUpdate
		statuses.Receive(ctx, &u)
	}
}

// BaselineActivities holds what the baseline's activity needs.
type BaselineActivities struct {
	Senders  map[channels.Channel]channels.Sender
	Messages store.Store
}

// Send sends msg and records its message id, so that a status callback
// without correlation (WhatsApp's failed) finds the workflow.
func (a *BaselineActivities) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	s, ok := a.Senders[msg.Channel]
	if !ok {
		return channels.SendResult{}, temporal.NewNonRetryableApplicationError("no sender for "+string(msg.Channel), "Config", nil)
	}
	res, err := s.Send(ctx, msg)
	if channels.IsPermanent(err) {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), "Permanent", err)
	}
	if err != nil {
		return res, fmt.Errorf("baseline send: %w", err)
	}
	ref := store.MessageRef{Provider: res.Provider, MessageID: res.MessageID, WorkflowID: msg.Correlation.WorkflowID,
		Attempt: msg.Correlation.Attempt, Channel: msg.Channel}
	if err := a.Messages.RecordMessage(ctx, ref); err != nil {
		return res, fmt.Errorf("baseline send: %w", err)
	}
	return res, nil
}

// baselineWorker returns the baseline's worker: workflow and activity on
// one task queue, default options, as a first Temporal program has them.
func baselineWorker(c client.Client, acts *BaselineActivities) worker.Worker {
	w := worker.New(c, BaselineTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(Baseline, workflow.RegisterOptions{Name: BaselineWorkflowName})
	w.RegisterWorkflowWithOptions(Sink, workflow.RegisterOptions{Name: SinkWorkflowName})
	w.RegisterActivityWithOptions(acts.Send, activity.RegisterOptions{Name: BaselineActivityName})
	return w
}
