package app_test

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/temporaltest"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
)

// Each channel's activity task queue carries its configured rate, which the
// server enforces across all workers.
func TestWorkersSetTaskQueueRates(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	c := ts.GetDefaultClient()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Every channel configured (at the sandbox's address; nothing is sent).
	cfg, _, _ = app.UseSandbox(cfg)
	cfg = cfg.WithSettings(map[string]string{"SWITCHBACK_RATE_WHATSAPP": "80", "SWITCHBACK_RATE_EMAIL": "100"})
	ws, err := app.Workers(c, app.WorkerOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.StartWorkers(ws); err != nil {
		t.Fatal(err)
	}
	defer app.StopWorkers(ws)

	want := map[channels.Channel]float32{channels.WhatsApp: 80, channels.SMS: 1, channels.Email: 100}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ch, rps := range want {
		var got float32
		for ctx.Err() == nil {
			resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
				Namespace:     ts.GetDefaultNamespace(),
				TaskQueue:     &taskqueuepb.TaskQueue{Name: journeys.ActivityTaskQueue(ch), Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
				ReportConfig:  true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got = resp.GetEffectiveRateLimit().GetRequestsPerSecond(); got == rps {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got != rps {
			t.Errorf("%s task queue rate = %v, want %v", ch, got, rps)
		}
	}
}
