package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/store"
)

// guardVersion is the change id of the quality guard and the messaging
// limit between a broadcast's batches (workflow.GetVersion): broadcasts
// that ran before it start their batches without them.
const guardVersion = "broadcast-guard"

// Names of the broadcast metrics, as the SDK's metrics handler reports
// them (a Prometheus scrape shows counters with _total).
const (
	// MetricBroadcastPauses counts broadcast pauses by reason class
	// (store.ClassPausedByPerson or a guard's class).
	MetricBroadcastPauses = "switchback_broadcast_pauses"
	// MetricBroadcastTierWaits counts waits of broadcasts for room under
	// the WhatsApp messaging limit.
	MetricBroadcastTierWaits = "switchback_broadcast_tier_waits"
)

// maxAcked bounds the guard conditions a broadcast remembers as resumed
// over.
const maxAcked = 20

// noRoomWait is how long a broadcast waits for room when the limit has
// none and nobody counted in the window (a warm-up day of 0).
const noRoomWait = time.Hour

// check runs the broadcast check. It reports whether the batch may start
// and, when the messaging limit caps its recipients, how many fit (-1: no
// cap). A condition of the guard pauses the broadcast; no room makes it
// wait, until the oldest recipient counted leaves the window, or until it
// is paused or canceled meanwhile.
func (b *broadcast) check(ctx workflow.Context) (bool, int, error) {
	if b.p.GuardSince.IsZero() {
		b.p.GuardSince = workflow.Now(ctx)
	}
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	req := activities.CheckRequest{Broadcast: b.id, Journey: b.in.Journey, Since: b.p.GuardSince, Acked: b.p.Acked}
	var res activities.CheckResult
	if err := workflow.ExecuteActivity(ao, activities.BroadcastCheckName, req).Get(ctx, &res); err != nil {
		return false, 0, fmt.Errorf("check broadcast %s: %w", b.id, err)
	}
	switch {
	case res.Pause != "":
		return false, 0, b.pause(ctx, res)
	case !res.Capped || res.NextChannel:
		return true, -1, nil
	case res.Room > 0:
		b.tierLimit = res.Limit
		return true, res.Room, nil
	}
	return false, 0, b.waitForRoom(ctx, res)
}

// pause pauses the broadcast for a condition of its guard, and says so in
// its status, its log, its metrics and the message event log (`switchback
// report`).
func (b *broadcast) pause(ctx workflow.Context, res activities.CheckResult) error {
	b.p.Paused, b.p.PauseClass, b.p.PauseReason, b.p.PauseKey = true, res.Pause, res.Reason, res.Key
	b.p.GuardPauses++
	workflow.GetLogger(ctx).Warn("broadcast paused by its quality guard; a person resumes it", "broadcast", b.id,
		"class", string(res.Pause), "reason", res.Reason)
	countPause(ctx, res.Pause)
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	e := store.MessageEvent{Provider: store.LocalProvider, MessageID: fmt.Sprintf("%s#pause-%d", b.id, b.p.GuardPauses),
		Status: store.EventBroadcastPaused, Journey: b.in.Journey, WorkflowID: b.id, ReasonClass: res.Pause,
		ErrorReason: res.Reason, At: workflow.Now(ctx)}
	if err := workflow.ExecuteActivity(ao, activities.RecordEventName, activities.EventRequest{Event: e}).Get(ctx, nil); err != nil {
		return fmt.Errorf("record the pause of broadcast %s: %w", b.id, err)
	}
	return nil
}

// countPause counts a pause by its class.
func countPause(ctx workflow.Context, class store.ReasonClass) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"reason": string(class)}).Counter(MetricBroadcastPauses).Inc(1)
}

// resume ends a pause: the guard's condition is acknowledged and its
// watch starts again now.
func (b *broadcast) resume(ctx workflow.Context) {
	if b.p.PauseKey != "" {
		b.p.Acked = append(b.p.Acked, b.p.PauseKey)
		b.p.Acked = b.p.Acked[max(0, len(b.p.Acked)-maxAcked):]
	}
	b.p.Paused, b.p.PauseClass, b.p.PauseReason, b.p.PauseKey = false, "", "", ""
	b.p.GuardSince = workflow.Now(ctx)
}

// waitForRoom waits until the oldest recipient counted leaves the window,
// unless the broadcast is paused or canceled meanwhile.
func (b *broadcast) waitForRoom(ctx workflow.Context, res activities.CheckResult) error {
	now := workflow.Now(ctx)
	until := res.FreeAt
	if until.IsZero() {
		until = now.Add(noRoomWait)
	}
	// The window ends just after FreeAt; a FreeAt already past (clocks
	// apart) waits a second.
	until = later(until, now).Add(time.Second)
	b.p.TierWaitUntil = until
	b.p.TierWaits++
	workflow.GetLogger(ctx).Info("broadcast waits for room under the WhatsApp messaging limit", "broadcast", b.id,
		"limit", res.Limit, "until", until)
	workflow.GetMetricsHandler(ctx).Counter(MetricBroadcastTierWaits).Inc(1)
	_, err := workflow.AwaitWithTimeout(ctx, until.Sub(now), func() bool { return b.p.Canceled || b.p.Paused })
	b.p.TierWaitUntil = time.Time{}
	return err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
