package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/store"
)

// fakeAudience plays the store and Temporal for the broadcast activities:
// a sorted list of contact keys, journeys started by id (a second start of
// an id finds it), and store outages.
type fakeAudience struct {
	mu      sync.Mutex
	keys    []string
	noPhone map[string]bool
	started map[string]int
	// pageFails fails that many page reads before the next succeeds.
	pageFails int
	failures  int
	// per run: activity calls and timers
	calls int
	// maxBatch is the largest batch started.
	maxBatch int
	// checks are the broadcast checks asked, in order; guard, if set,
	// answers the nth (from 1) with a pause or nothing.
	checks []activities.CheckRequest
	guard  func(n int, req activities.CheckRequest) activities.CheckResult
	// tierLimit, when set, plays the messaging limit: recipients counted
	// by the time they were (the activity's start, on the test clock).
	tierLimit int
	counted   map[string]time.Time
	// nextChannel answers checks as for a journey whose tier_limit is
	// next_channel.
	nextChannel bool
	// now is the test clock of the run (the activities' time).
	now func() time.Time
	// events are the events the broadcast recorded.
	events []store.MessageEvent
	// metrics, if set, receives the workflow's metrics.
	metrics client.MetricsHandler
	// queryAt are times after the start at which runBroadcast queries the
	// first run's status (broadcastRun.queried).
	queryAt []time.Duration
}

func newAudience(n int) *fakeAudience {
	f := &fakeAudience{started: map[string]int{}, noPhone: map[string]bool{}}
	for i := range n {
		f.keys = append(f.keys, fmt.Sprintf("k%05d", i))
	}
	sort.Strings(f.keys)
	return f
}

func (f *fakeAudience) page(_ context.Context, req activities.PageRequest) (activities.PageResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.pageFails > 0 {
		f.pageFails--
		f.failures++
		return activities.PageResult{}, errors.New("store: connection refused")
	}
	i, _ := slices.BinarySearch(f.keys, req.After)
	if i < len(f.keys) && f.keys[i] == req.After {
		i++
	}
	res := activities.PageResult{Keys: slices.Clone(f.keys[i:min(i+req.Limit, len(f.keys))])}
	if req.Count {
		res.Size = len(f.keys)
	}
	return res, nil
}

func (f *fakeAudience) check(_ context.Context, req activities.CheckRequest) (activities.CheckResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks = append(f.checks, req)
	if f.guard != nil {
		if res := f.guard(len(f.checks), req); res.Pause != "" {
			return res, nil
		}
	}
	if f.tierLimit == 0 {
		return activities.CheckResult{}, nil
	}
	now := f.now()
	res := activities.CheckResult{Capped: true, Limit: f.tierLimit, Room: f.tierLimit, NextChannel: f.nextChannel}
	for _, at := range f.counted {
		if now.Sub(at) < 24*time.Hour {
			res.Room--
			if res.FreeAt.IsZero() || at.Add(24*time.Hour).Before(res.FreeAt) {
				res.FreeAt = at.Add(24 * time.Hour)
			}
		}
	}
	return res, nil
}

// record keeps the events the broadcast records (its pauses).
func (f *fakeAudience) record(_ context.Context, req activities.EventRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, req.Event)
	return nil
}

// reserve plays store.Store.ReserveRecipient at the activity's time.
func (f *fakeAudience) reserve(now time.Time, key string, limit int) bool {
	if f.counted == nil {
		f.counted = map[string]time.Time{}
	}
	n := 0
	for k, at := range f.counted {
		if now.Sub(at) < 24*time.Hour {
			if k == key {
				return true
			}
			n++
		}
	}
	if n >= limit {
		return false
	}
	f.counted[key] = now
	return true
}

func (f *fakeAudience) start(_ context.Context, req activities.StartBatchRequest) (activities.BatchCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.maxBatch = max(f.maxBatch, len(req.Keys))
	var n activities.BatchCounts
	for i, k := range req.Keys {
		if req.TierLimit > 0 && !f.reserve(f.now(), k, req.TierLimit) {
			n.Left = len(req.Keys) - i
			return n, nil
		}
		id := activities.JourneyID(req.Broadcast, k)
		switch {
		case f.noPhone[k]:
			n.Add(activities.BatchCounts{Skipped: map[activities.SkipReason]int{activities.SkipNoNumber: 1}})
		case f.started[id] > 0:
			n.Existing++
		default:
			n.Started++
		}
		if !f.noPhone[k] {
			f.started[id]++
		}
	}
	return n, nil
}

// update is an update sent to a broadcast after a delay.
type update struct {
	after  time.Duration
	name   string
	reject bool
}

// broadcastRun is what a broadcast did, over all its runs.
type broadcastRun struct {
	status   BroadcastStatus
	runs     int
	maxCalls int // activity calls and timers of the busiest run
	paused   BroadcastStatus
	rejected []string
	queried  []BroadcastStatus
	// start and end are when the first run started and the last ended.
	start, end time.Time
}

// runBroadcast runs the broadcast id to its end, run after run, with the
// updates sent to its first run.
func runBroadcast(t *testing.T, f *fakeAudience, id string, in BroadcastInput, updates []update) broadcastRun {
	t.Helper()
	var out broadcastRun
	var now time.Time
	for out.runs = 1; ; out.runs++ {
		var ts testsuite.WorkflowTestSuite
		if f.metrics != nil {
			ts.SetMetricsHandler(f.metrics)
		}
		env := ts.NewTestWorkflowEnvironment()
		if !now.IsZero() {
			env.SetStartTime(now) // the next run starts when the last ended
		}
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
		Register(env, testOptions)
		env.RegisterActivityWithOptions(f.page, activity.RegisterOptions{Name: activities.BroadcastPageName})
		env.RegisterActivityWithOptions(f.start, activity.RegisterOptions{Name: activities.BroadcastStartName})
		env.RegisterActivityWithOptions(f.check, activity.RegisterOptions{Name: activities.BroadcastCheckName})
		env.RegisterActivityWithOptions(f.record, activity.RegisterOptions{Name: activities.RecordEventName})
		f.now = env.Now
		timers := 0
		env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
		f.calls = 0
		if out.runs == 1 {
			out.start = env.Now()
			for _, d := range f.queryAt {
				env.RegisterDelayedCallback(func() { out.queried = append(out.queried, queryStatus(t, env)) }, d)
			}
			for _, u := range updates {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(u.name, u.name+u.after.String(), &testsuite.TestUpdateCallback{
						OnReject: func(err error) {
							var ae *temporal.ApplicationError
							if !u.reject || !errors.As(err, &ae) || ae.Type() != BadTransitionType {
								t.Errorf("%s after %s rejected: %v", u.name, u.after, err)
							}
							out.rejected = append(out.rejected, u.name)
						},
						OnAccept: func() {
							if u.reject {
								t.Errorf("%s after %s accepted, want it rejected", u.name, u.after)
							}
						},
						OnComplete: func(any, error) {},
					})
					if u.name == UpdatePause && !u.reject {
						env.RegisterDelayedCallback(func() { out.paused = queryStatus(t, env) }, time.Minute)
					}
				}, u.after)
			}
		}
		env.ExecuteWorkflow(BroadcastWorkflowType, in)
		out.maxCalls = max(out.maxCalls, f.calls+timers)
		now = env.Now()
		out.end = now
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			in = BroadcastInput{}
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("broadcast: %v", err)
		}
		if err := env.GetWorkflowResult(&out.status); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) BroadcastStatus {
	t.Helper()
	v, err := env.QueryWorkflow(QueryBroadcastStatus)
	if err != nil {
		t.Fatal(err)
	}
	var s BroadcastStatus
	if err := v.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBroadcastScale(t *testing.T) {
	tests := []struct {
		name                         string
		members, page, batch, perRun int
		rate                         float64
		wantRuns                     int
		maxCallsPerRun               int
	}{
		// 3,000 members, pages of 100 in batches of 20, 5 pages a run:
		// 6 full runs, each with 5 page reads, 25 batches and at most 25
		// rate timers, then one that reads the empty page after the last.
		{"3000 members", 3000, 100, 20, 5, 1000, 7, 5 + 25 + 25},
		{"partial last page", 1050, 100, 50, 4, 1000, 3, 4 + 8 + 8},
		{"one page", 10, 100, 50, 4, 1000, 1, 1 + 1 + 1},
		{"empty segment", 0, 100, 50, 4, 1000, 1, 1},
		// At 5 a second, batches of 5: 60 batches, 25 a run, the runs
		// ending in the middle of a page.
		{"low rate", 300, 100, 50, 4, 5, 3, 2 + 25 + 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAudience(tt.members)
			in := BroadcastInput{Journey: "otp", Segment: "all", Vars: map[string]string{"code": "1"}, Rate: tt.rate,
				PageSize: tt.page, BatchSize: tt.batch, PagesPerRun: tt.perRun, BatchesPerRun: 25}
			got := runBroadcast(t, f, "sale", in, nil)
			if got.runs != tt.wantRuns {
				t.Errorf("runs = %d, want %d (continue-as-new every %d pages)", got.runs, tt.wantRuns, tt.perRun)
			}
			if got.maxCalls > tt.maxCallsPerRun {
				t.Errorf("busiest run: %d activities and timers, want at most %d", got.maxCalls, tt.maxCallsPerRun)
			}
			s := got.status
			if s.Phase != PhaseCompleted || s.Started != tt.members || s.Total != tt.members || s.Remaining != 0 || s.Runs != tt.wantRuns {
				t.Errorf("status = %+v, want completed, %d started of %d in %d runs", s, tt.members, tt.members, tt.wantRuns)
			}
			for id, n := range f.started {
				if n != 1 {
					t.Errorf("journey %s started %d times", id, n)
				}
			}
			if len(f.started) != tt.members {
				t.Errorf("%d journeys started, want %d", len(f.started), tt.members)
			}
		})
	}
}

// A second broadcast with the same id (a double submit, a restart) finds
// every journey started and sends nothing again.
func TestBroadcastTwiceSendsOnce(t *testing.T) {
	f := newAudience(500)
	f.noPhone["k00007"] = true
	in := BroadcastInput{Journey: "otp", Segment: "all", PageSize: 64, BatchSize: 16, PagesPerRun: 3, Rate: 500}
	first := runBroadcast(t, f, "sale", in, nil)
	second := runBroadcast(t, f, "sale", in, nil)
	if first.status.Started != 499 || first.status.Skipped[activities.SkipNoNumber] != 1 {
		t.Errorf("first: %+v, want 499 started, 1 skipped for no number", first.status)
	}
	if second.status.Started != 0 || second.status.AlreadyStarted != 499 {
		t.Errorf("second: %+v, want none started, 499 already started", second.status)
	}
	for id, n := range f.started {
		if n != 2 { // each member's journey id reached twice, started once
			t.Errorf("journey %s reached %d times, want 2", id, n)
		}
	}
	other := runBroadcast(t, f, "other", in, nil)
	if other.status.Started != 499 {
		t.Errorf("another broadcast id: %d started, want 499", other.status.Started)
	}
}

// The broadcast starts at most Rate journeys a second, by workflow timers.
func TestBroadcastRate(t *testing.T) {
	for _, rate := range []float64{10, 50} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			f := newAudience(1000)
			in := BroadcastInput{Journey: "otp", Segment: "all", Rate: rate, PageSize: 200, BatchSize: 50, PagesPerRun: 100, BatchesPerRun: 1000}
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			Register(env, testOptions)
			env.RegisterActivityWithOptions(f.page, activity.RegisterOptions{Name: activities.BroadcastPageName})
			env.RegisterActivityWithOptions(f.start, activity.RegisterOptions{Name: activities.BroadcastStartName})
			env.RegisterActivityWithOptions(f.check, activity.RegisterOptions{Name: activities.BroadcastCheckName})
			var mid BroadcastStatus
			half := time.Duration(500/rate) * time.Second
			env.RegisterDelayedCallback(func() { mid = queryStatus(t, env) }, half)
			begin := env.Now()
			env.ExecuteWorkflow(BroadcastWorkflowType, in)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			took := env.Now().Sub(begin)
			if least := time.Duration((1000-10)/rate) * time.Second; took < least {
				t.Errorf("1000 journeys at %v/s took %s, want at least %s", rate, took, least)
			}
			if mid.Started > 510 || mid.Started < 400 {
				t.Errorf("after %s: %d started, want about 500", half, mid.Started)
			}
			if mid.Rate < rate*0.8 || mid.Rate > rate*1.05 {
				t.Errorf("current rate %v, want about %v", mid.Rate, rate)
			}
			if f.maxBatch > int(rate) {
				t.Errorf("a batch of %d journeys at %v/s: more than a second's worth", f.maxBatch, rate)
			}
		})
	}
}

func TestBroadcastSteering(t *testing.T) {
	// 200 members at 10/s: 20 batches of 10, one a second.
	tests := []struct {
		name        string
		updates     []update
		wantPhase   Phase
		wantStarted func(int) bool
		wantPaused  bool
	}{
		{"pause then resume", []update{
			{after: 5 * time.Second, name: UpdatePause},
			{after: 6 * time.Second, name: UpdatePause, reject: true},
			{after: time.Hour, name: UpdateResume},
		}, PhaseCompleted, func(n int) bool { return n == 200 }, true},
		{"resume while running", []update{{after: 3 * time.Second, name: UpdateResume, reject: true}},
			PhaseCompleted, func(n int) bool { return n == 200 }, false},
		{"cancel", []update{{after: 5 * time.Second, name: UpdateCancel}}, PhaseCanceled, func(n int) bool { return n > 0 && n <= 70 }, false},
		// Between two batches, waiting for the rate.
		{"cancel while waiting", []update{{after: 5500 * time.Millisecond, name: UpdateCancel}}, PhaseCanceled, func(n int) bool { return n > 0 && n <= 70 }, false},
		{"pause while waiting", []update{
			{after: 5500 * time.Millisecond, name: UpdatePause},
			{after: time.Hour, name: UpdateResume},
		}, PhaseCompleted, func(n int) bool { return n == 200 }, true},
		{"cancel while paused", []update{
			{after: 5 * time.Second, name: UpdatePause},
			{after: time.Hour, name: UpdateCancel},
		}, PhaseCanceled, func(n int) bool { return n > 0 && n <= 70 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAudience(200)
			in := BroadcastInput{Journey: "otp", Segment: "all", Rate: 10, PageSize: 50, BatchSize: 10, PagesPerRun: 100}
			got := runBroadcast(t, f, "sale", in, tt.updates)
			s := got.status
			if s.Phase != tt.wantPhase || !tt.wantStarted(s.Started) {
				t.Errorf("status = %+v, want %s", s, tt.wantPhase)
			}
			if len(f.started) != s.Started {
				t.Errorf("%d journeys started, status says %d", len(f.started), s.Started)
			}
			if s.Phase == PhaseCanceled && s.Remaining != 200-s.Started {
				t.Errorf("canceled: remaining %d, want %d", s.Remaining, 200-s.Started)
			}
			if tt.wantPaused {
				p := got.paused
				if p.Phase != PhasePaused && p.Phase != PhaseCanceled || p.Started > 70 || p.Rate != 0 {
					t.Errorf("a minute after the pause: %+v, want paused, at most 70 started, rate 0", p)
				}
			}
			var wantRejected []string
			for _, u := range tt.updates {
				if u.reject {
					wantRejected = append(wantRejected, u.name)
				}
			}
			if !slices.Equal(got.rejected, wantRejected) {
				t.Errorf("rejected %v, want %v", got.rejected, wantRejected)
			}
		})
	}
}

// A store outage while paging is waited out by the activity's retries: no
// member is skipped.
func TestBroadcastStoreOutage(t *testing.T) {
	f := newAudience(300)
	f.pageFails = 4
	in := BroadcastInput{Journey: "otp", Segment: "all", Rate: 100, PageSize: 50, BatchSize: 25, PagesPerRun: 2}
	got := runBroadcast(t, f, "sale", in, nil)
	if f.failures != 4 {
		t.Errorf("%d page reads failed, want 4", f.failures)
	}
	if got.status.Started != 300 || len(f.started) != 300 {
		t.Errorf("started %d (%d journeys), want 300: %+v", got.status.Started, len(f.started), got.status)
	}
}
