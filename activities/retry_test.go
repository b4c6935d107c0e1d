package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// countingSender fails its first send (the answer lost) and counts sends.
type countingSender struct{ sends int }

func (s *countingSender) Send(context.Context, channels.Message) (channels.SendResult, error) {
	s.sends++
	if s.sends == 1 {
		return channels.SendResult{}, &channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "network", Reason: "connection reset"}
	}
	return channels.SendResult{Provider: "twilio", MessageID: "SM-second", Status: channels.StatusAccepted}, nil
}

// A retried send whose attempt the event log already shows accepted (its
// earlier try sent it, then could not report) answers with that message
// and does not send again; without such an event it sends.
func TestRetriedSendIsNotSentTwice(t *testing.T) {
	for _, accepted := range []bool{true, false} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		a, st := newTestActivities(t, time.Now())
		sender := &countingSender{}
		a.Senders = map[channels.Channel]channels.Sender{channels.SMS: sender}
		env.RegisterActivity(a)
		const wf = "default-test-workflow-id"
		if accepted {
			if _, err := st.RecordEvent(context.Background(), store.MessageEvent{Provider: "twilio", MessageID: "SM-first", Status: store.EventAccepted,
				WorkflowID: wf, Attempt: 1, Channel: channels.SMS, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		env.ExecuteWorkflow(func(ctx workflow.Context) (channels.SendResult, error) {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
				RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3}})
			req := SendRequest{Journey: "j", Step: "s", Message: channels.Message{Channel: channels.SMS, To: "+15551234567", Text: "hi",
				Correlation: channels.Correlation{WorkflowID: wf, Attempt: 1}}}
			var res channels.SendResult
			err := workflow.ExecuteActivity(ctx, SendName, req).Get(ctx, &res)
			return res, err
		})
		var res channels.SendResult
		if err := errors.Join(env.GetWorkflowError(), env.GetWorkflowResult(&res)); err != nil {
			t.Fatal(err)
		}
		want, sends := "SM-second", 2
		if accepted {
			want, sends = "SM-first", 1
		}
		if res.MessageID != want || sender.sends != sends {
			t.Errorf("accepted before=%v: result %s after %d sends, want %s after %d", accepted, res.MessageID, sender.sends, want, sends)
		}
	}
}
