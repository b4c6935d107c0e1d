package workflows

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/store"
)

// A messaging limit of 2 over 5 members: 2 start at once, then the
// broadcast waits with a timer until the oldest leaves the 24-hour window,
// twice; nobody is started twice, and the status says when the wait ends.
func TestBroadcastTierWait(t *testing.T) {
	f := newAudience(5)
	f.tierLimit = 2
	f.queryAt = []time.Duration{time.Hour}
	m := newCounters()
	f.metrics = m
	in := BroadcastInput{Journey: "otp", Segment: "all", Rate: 100, PageSize: 50, BatchSize: 50}
	got := runBroadcast(t, f, "sale", in, nil)
	if n := m.count(MetricBroadcastTierWaits, ""); n != 2 {
		t.Errorf("%s = %d, want 2", MetricBroadcastTierWaits, n)
	}
	s := got.status
	if s.Phase != PhaseCompleted || s.Started != 5 || s.TierWaits != 2 {
		t.Errorf("status = %+v, want completed, 5 started after 2 tier waits", s)
	}
	if d := got.end.Sub(got.start); d < 48*time.Hour || d > 49*time.Hour {
		t.Errorf("the broadcast took %v, want just over 48h (two windows)", d)
	}
	for i, k := range f.keys {
		want := got.start.Add(time.Duration(i/2) * 24 * time.Hour)
		if at := f.counted[k]; at.Before(want) || at.After(want.Add(time.Minute)) {
			t.Errorf("%s counted at +%v, want +%v", k, at.Sub(got.start), want.Sub(got.start))
		}
	}
	w := got.queried[0]
	if w.Phase != PhaseRunning || w.Started != 2 || w.TierWaitUntil.Sub(got.start) < 24*time.Hour || w.TierWaitUntil.Sub(got.start) > 24*time.Hour+time.Minute {
		t.Errorf("an hour in: %+v, want running, 2 started, waiting until +24h", w)
	}
}

// A journey whose tier_limit is next_channel: the broadcast starts every
// journey without waiting and counts nobody itself.
func TestBroadcastTierNextChannel(t *testing.T) {
	f := newAudience(5)
	f.tierLimit = 2
	f.nextChannel = true
	got := runBroadcast(t, f, "sale", BroadcastInput{Journey: "otp", Segment: "all", Rate: 100}, nil)
	if got.status.Started != 5 || got.status.TierWaits != 0 || len(f.counted) != 0 {
		t.Errorf("status = %+v, %d counted; want 5 started, no waits, none counted", got.status, len(f.counted))
	}
}

// Each guard condition pauses the broadcast with its class and reason in
// the status; it stays paused until a person resumes it, which clears the
// reason, acknowledges the condition (the next checks carry its key) and
// restarts the guard's watch; the broadcast then completes.
func TestBroadcastGuardPauses(t *testing.T) {
	for _, class := range []store.ReasonClass{store.ClassNumberFlagged, store.ClassNumberQuality, store.ClassTemplatePaused, store.ClassFailureSurge} {
		t.Run(string(class), func(t *testing.T) {
			f := newAudience(200)
			key := string(class) + "/1"
			f.guard = func(n int, req activities.CheckRequest) activities.CheckResult {
				if n < 3 || slices.Contains(req.Acked, key) {
					return activities.CheckResult{}
				}
				return activities.CheckResult{Pause: class, Reason: "because " + string(class), Key: key}
			}
			f.queryAt = []time.Duration{30 * time.Minute}
			m := newCounters()
			f.metrics = m
			in := BroadcastInput{Journey: "otp", Segment: "all", Rate: 10, PageSize: 50, BatchSize: 10}
			got := runBroadcast(t, f, "sale", in, []update{{after: time.Hour, name: UpdateResume}})
			p := got.queried[0]
			if p.Phase != PhasePaused || p.PauseClass != class || p.PauseReason != "because "+string(class) || p.Started != 20 {
				t.Errorf("30 minutes in: %+v, want paused by %s after 2 batches", p, class)
			}
			s := got.status
			if s.Phase != PhaseCompleted || s.Started != 200 || s.PauseClass != "" || s.PauseReason != "" {
				t.Errorf("status = %+v, want completed, 200 started, no pause reason", s)
			}
			if len(f.events) != 1 || f.events[0].Status != store.EventBroadcastPaused || f.events[0].ReasonClass != class ||
				f.events[0].Journey != "otp" || f.events[0].WorkflowID != "sale" {
				t.Errorf("events recorded = %+v, want one broadcast_paused of class %s", f.events, class)
			}
			if n := m.count(MetricBroadcastPauses, string(class)); n != 1 {
				t.Errorf("%s{reason=%s} = %d, want 1", MetricBroadcastPauses, class, n)
			}
			last := f.checks[len(f.checks)-1]
			if !slices.Contains(last.Acked, key) {
				t.Errorf("checks after the resume acknowledge %v, want %s", last.Acked, key)
			}
			if first := f.checks[0]; !last.Since.After(first.Since.Add(time.Hour - time.Second)) {
				t.Errorf("the guard's watch began at +%v after the resume, want from the resume (+1h)", last.Since.Sub(first.Since))
			}
		})
	}
}

// A person's pause says so in the status.
func TestBroadcastPauseByPerson(t *testing.T) {
	f := newAudience(200)
	m := newCounters()
	f.metrics = m
	in := BroadcastInput{Journey: "otp", Segment: "all", Rate: 10, PageSize: 50, BatchSize: 10}
	got := runBroadcast(t, f, "sale", in, []update{{after: 5 * time.Second, name: UpdatePause}, {after: time.Hour, name: UpdateResume}})
	if n := m.count(MetricBroadcastPauses, string(store.ClassPausedByPerson)); n != 1 {
		t.Errorf("%s{reason=%s} = %d, want 1", MetricBroadcastPauses, store.ClassPausedByPerson, n)
	}
	if p := got.paused; p.PauseClass != store.ClassPausedByPerson || p.PauseReason == "" {
		t.Errorf("paused by a person: %+v, want class %s and a reason", p, store.ClassPausedByPerson)
	}
	if got.status.PauseClass != "" {
		t.Errorf("after the resume: %+v, want no pause class", got.status)
	}
}

// counters is a metrics handler that counts the workflow's counters by
// name and tags.
type counters struct {
	mu     *sync.Mutex
	tags   map[string]string
	counts map[string]int64
}

func newCounters() counters {
	return counters{mu: &sync.Mutex{}, counts: map[string]int64{}}
}

func (c counters) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(c.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return counters{mu: c.mu, tags: merged, counts: c.counts}
}

func (c counters) Counter(name string) client.MetricsCounter { return counter{c, name} }
func (c counters) Gauge(name string) client.MetricsGauge     { return client.MetricsNopHandler.Gauge(name) }
func (c counters) Timer(name string) client.MetricsTimer     { return client.MetricsNopHandler.Timer(name) }

// count returns the counter's total with the reason tag (empty: without
// one).
func (c counters) count(name, reason string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[name+"|"+reason]
}

type counter struct {
	c    counters
	name string
}

func (n counter) Inc(d int64) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	n.c.counts[n.name+"|"+n.c.tags["reason"]] += d
}
