package cluster

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/sandbox"
)

var latencyPhases = flag.String("cluster.latency", "1:20s,10:40s,50:10s",
	"undisturbed latency phases before the burst, comma-separated rate:duration (journeys a second for that long); empty: none")

// phase is one latency phase: journeys started at rate a second for long.
type phase struct {
	rate float64
	long time.Duration
}

// parsePhases reads -cluster.latency.
func parsePhases(s string) ([]phase, error) {
	var ps []phase
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		r, d, ok := strings.Cut(part, ":")
		rate, err := strconv.ParseFloat(r, 64)
		if !ok || err != nil || rate <= 0 {
			return nil, fmt.Errorf("-cluster.latency: %q: want rate:duration, rate above 0", part)
		}
		long, err := time.ParseDuration(d)
		if err != nil || long <= 0 {
			return nil, fmt.Errorf("-cluster.latency: %q: want rate:duration, duration above 0", part)
		}
		ps = append(ps, phase{rate, long})
	}
	return ps, nil
}

// measureLatency runs the latency phases in turn on the undisturbed
// cluster: journeys of every kind started through the API at the phase's
// rate for its duration, each run to its end before the next phase. For
// each it logs the time from the start call to the first send reaching
// the sandbox (p50, p99), the machine's load, and where that time went
// (breakdown). It returns the journeys, for the checks of the whole test.
func measureLatency(ctx context.Context, t *testing.T, c *Cluster, a *apiClient, sb *sandbox.Sandbox) []result {
	t.Helper()
	ps, err := parsePhases(*latencyPhases)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		return nil
	}
	tc, err := c.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	var all []result
	for _, p := range ps {
		name := "latency_" + strconv.FormatFloat(p.rate, 'f', -1, 64) + "ps"
		load := loadAverage()
		cpu, began := c.cpuTimes(), time.Now()
		l := startLoad(ctx, a, name, p.rate)
		select {
		case <-ctx.Done():
		case <-time.After(p.long):
		}
		rs := l.finish()
		wall, used := time.Since(began), c.cpuTimes().since(cpu)
		all = append(all, rs...)
		sent := sb.Sent()
		p50, p99 := sendLatency(rs, sent)
		b, err := breakdown(ctx, tc, rs, sent)
		if err != nil {
			t.Errorf("%s: breakdown: %v", name, err)
		}
		t.Logf("%s journeys=%d p50=%s p99=%s load_before=%s load_after=%s breakdown: %s cpu_s over %s (until the last journey ended): %s",
			name, len(rs), p50, p99, load, loadAverage(), b, wall.Round(100*time.Millisecond), used)
	}
	return all
}

// loadAverage is the machine's load average over the last minute, from
// /proc/loadavg ("?" where there is none).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	one, _, _ := strings.Cut(string(b), " ")
	return one
}

// cpuTimes are CPU seconds used so far: by each of the cluster's
// processes, by PostgreSQL's, by this test (the backend and the sandbox),
// and by the whole machine (every process, other work included).
type cpuTimes struct {
	names  []string
	values []float64
}

func (c *Cluster) cpuTimes() cpuTimes {
	var t cpuTimes
	add := func(name string, v float64) {
		t.names, t.values = append(t.names, name), append(t.values, v)
	}
	add("temporal", processCPU(c.Temporal.Pid()))
	for _, w := range c.Workers {
		add(strings.ReplaceAll(w.Name, "-", ""), processCPU(w.Pid()))
	}
	add("serve", processCPU(c.Serve.Pid()))
	pg := 0.0
	if dirs, err := os.ReadDir("/proc"); err == nil {
		for _, d := range dirs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), "postgres") {
				pg += processCPU(pid)
			}
		}
	}
	add("postgres", pg)
	add("test", processCPU(os.Getpid()))
	machine := 0.0
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		for i, v := range f {
			if n, err := strconv.ParseFloat(v, 64); err == nil && i >= 1 && i != 4 && i != 5 && i <= 8 {
				machine += n / clockTicks
			}
		}
	}
	add("machine", machine)
	return t
}

// since formats the CPU seconds used from then until t.
func (t cpuTimes) since(then cpuTimes) string {
	var parts []string
	for i, name := range t.names {
		if i < len(then.values) {
			parts = append(parts, fmt.Sprintf("%s=%.1f", name, t.values[i]-then.values[i]))
		}
	}
	return strings.Join(parts, " ")
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's CPU times.
const clockTicks = 100

// processCPU returns the CPU seconds process pid has used (user and
// system, its own threads), 0 when it cannot be read. PostgreSQL
// backends that exited during a phase are not counted.
func processCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}

// segments are the parts of a journey's time from the API call to its
// first send reaching the provider, from its history's event times (the
// same machine's clock):
//
//	api        start call → WorkflowExecutionStarted (serve, the start RPC)
//	wft_wait   → the first workflow task's WorkflowTaskStarted (matching, a poller)
//	more_wfts  → the WorkflowTaskStarted of the task that scheduled the
//	             send (zero when that was the first)
//	wft        → its WorkflowTaskCompleted (the workflow code, its local
//	             activities, the completion RPC)
//	act_wait   → the send's ActivityTaskStarted (matching, a poller)
//	send       → the sandbox receiving the request (the activity's own work)
//
// and reply, the start call until its answer reached the backend.
var segments = []string{"reply", "api", "wft_wait", "more_wfts", "wft", "act_wait", "send"}

// breakdown reads the history of each journey whose first send reached
// the sandbox and returns the p50 and p99 of each segment, formatted.
func breakdown(ctx context.Context, tc client.Client, rs []result, sent []sandbox.SentMessage) (string, error) {
	firstSend := map[string]time.Time{}
	for _, m := range sent {
		id, _, _ := strings.Cut(apptest.SendKey(m), "#")
		if _, ok := firstSend[id]; !ok && id != "" {
			firstSend[id] = m.Time
		}
	}
	parts := map[string][]time.Duration{}
	tasks, lost := 0, 0
	var slowest time.Duration
	var slowestID string
	for _, r := range rs {
		at, ok := firstSend[r.id]
		if !ok || r.accepted.IsZero() {
			continue
		}
		ts, err := historyTimes(ctx, tc, r.id)
		if err != nil {
			return "", err
		}
		if ts.activityStarted.IsZero() {
			continue // the send's start is not in history yet
		}
		parts["reply"] = append(parts["reply"], r.accepted.Sub(r.started))
		parts["api"] = append(parts["api"], ts.started.Sub(r.started))
		parts["wft_wait"] = append(parts["wft_wait"], ts.firstTask.Sub(ts.started))
		if d := at.Sub(r.started); d > slowest {
			slowest, slowestID = d, r.id
		}
		parts["more_wfts"] = append(parts["more_wfts"], ts.taskStarted.Sub(ts.firstTask))
		parts["wft"] = append(parts["wft"], ts.taskCompleted.Sub(ts.taskStarted))
		tasks += ts.tasks
		lost += ts.lostTasks
		parts["act_wait"] = append(parts["act_wait"], ts.activityStarted.Sub(ts.taskCompleted))
		parts["send"] = append(parts["send"], at.Sub(ts.activityStarted))
	}
	var out []string
	for _, s := range segments {
		p50, p99 := percentiles(parts[s])
		out = append(out, fmt.Sprintf("%s_p50=%s p99=%s", s, p50, p99))
	}
	events, err := historyEvents(ctx, tc, slowestID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("n=%d wfts_before_send=%d failed_or_timed_out=%d %s; the slowest (%s): %s", len(parts["send"]), tasks, lost,
		strings.Join(out, " "), slowest.Round(time.Millisecond), events), nil
}

// journeyTimes are the event times of a journey's history up to its first
// send's start.
type journeyTimes struct {
	started                    time.Time // WorkflowExecutionStarted
	firstTask                  time.Time // the first WorkflowTaskStarted
	tasks, lostTasks           int       // workflow tasks completed, and failed or timed out, before the send
	taskStarted, taskCompleted time.Time // of the workflow task that scheduled the first send
	activityStarted            time.Time // the first send's ActivityTaskStarted
}

func historyTimes(ctx context.Context, tc client.Client, id string) (journeyTimes, error) {
	var ts journeyTimes
	var taskStarted time.Time
	var sendScheduled int64
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return ts, fmt.Errorf("history of %s: %w", id, err)
		}
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			ts.started = at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			taskStarted = at
			if ts.firstTask.IsZero() {
				ts.firstTask = at
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED, enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			if sendScheduled == 0 {
				ts.lostTasks++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if sendScheduled == 0 {
				ts.taskStarted, ts.taskCompleted = taskStarted, at
				ts.tasks++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if sendScheduled == 0 && ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == activities.SendName {
				sendScheduled = ev.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if sendScheduled != 0 && ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId() == sendScheduled {
				ts.activityStarted = at
				return ts, nil
			}
		}
	}
	return ts, nil
}

// historyEvents formats the first events of workflow id's history, each
// as its type and its time after the first.
func historyEvents(ctx context.Context, tc client.Client, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	var out []string
	var first time.Time
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for len(out) < 20 && it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("history of %s: %w", id, err)
		}
		at := ev.GetEventTime().AsTime()
		if first.IsZero() {
			first = at
		}
		name := strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
		// Marker names and search attribute names say which command it
		// was; neither carries a payload.
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			name += "(" + m.GetMarkerName() + ")"
		}
		if u := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
			name += "(" + strings.Join(slices.Sorted(maps.Keys(u.GetSearchAttributes().GetIndexedFields())), ",") + ")"
		}
		out = append(out, fmt.Sprintf("%s+%s", name, at.Sub(first).Round(time.Millisecond)))
	}
	return strings.Join(out, " "), nil
}

// percentiles returns the median and the 99th percentile of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	ds = slices.Sorted(slices.Values(ds))
	at := func(q float64) time.Duration {
		return ds[min(len(ds)-1, int(q*float64(len(ds))))].Round(time.Millisecond)
	}
	return at(0.5), at(0.99)
}
