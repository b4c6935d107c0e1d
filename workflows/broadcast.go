package workflows

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/store"
)

// BroadcastWorkflowType is the registered name of the Broadcast workflow.
const BroadcastWorkflowType = "Broadcast"

// Broadcast query and update names.
const (
	QueryBroadcastStatus = "broadcast_status"
	UpdatePause          = "pause"
	UpdateResume         = "resume"
	UpdateCancel         = "cancel"
)

// Broadcast defaults: 50 starts a second, pages of 500 contacts started in
// batches of 50, and a new run after 10 pages or 100 batches, which keeps a
// run's history near a thousand events.
const (
	DefaultBroadcastRate = 50
	DefaultPageSize      = 500
	DefaultBatchSize     = 50
	DefaultPagesPerRun   = 10
	DefaultBatchesPerRun = 100
)

// rateWindow is how far back the status's current rate looks.
const rateWindow = 30 * time.Second

// Phase is where a broadcast stands.
type Phase string

// Broadcast phases.
const (
	PhaseRunning   Phase = "running"
	PhasePaused    Phase = "paused"
	PhaseCanceled  Phase = "canceled"
	PhaseCompleted Phase = "completed"
)

// Ended reports whether a broadcast in phase p has ended: it takes no
// pause, resume or cancel.
func (p Phase) Ended() bool { return p == PhaseCompleted || p == PhaseCanceled }

// BroadcastInput starts a Broadcast: the journey, by name, started for
// every contact of a segment with the same variables.
type BroadcastInput struct {
	Journey string            `json:"journey"`
	Segment string            `json:"segment"`
	Vars    map[string]string `json:"vars,omitempty"`
	// At is when the segment is evaluated (its inbound windows end); zero:
	// when the broadcast starts. Every run keeps the first run's.
	At time.Time `json:"at"`
	// Rate is the most journeys started per second; zero:
	// DefaultBroadcastRate.
	Rate float64 `json:"rate,omitempty"`
	// PageSize, BatchSize, PagesPerRun and BatchesPerRun shape the work:
	// contacts read per page, journeys started per activity (never more
	// than Rate), pages and batches per run before continuing as new.
	// Zero: the defaults.
	PageSize      int `json:"page_size,omitempty"`
	BatchSize     int `json:"batch_size,omitempty"`
	PagesPerRun   int `json:"pages_per_run,omitempty"`
	BatchesPerRun int `json:"batches_per_run,omitempty"`
	// Progress is carried from one run to the next; nil at the start.
	Progress *BroadcastProgress `json:"progress,omitempty"`
}

// BroadcastProgress is what a broadcast has done so far.
type BroadcastProgress struct {
	// Cursor is the last contact key of the last batch done.
	Cursor string `json:"cursor,omitempty"`
	// Total is the segment's size when the broadcast started.
	Total  int                    `json:"total"`
	Counts activities.BatchCounts `json:"counts"`
	Paused bool                   `json:"paused,omitempty"`
	// Canceled is set by a cancel: no more journeys start.
	Canceled bool `json:"canceled,omitempty"`
	// Runs counts the runs before this one (continue-as-new).
	Runs int `json:"runs,omitempty"`
	// MaxHistory is the longest history of a run so far, in events, as
	// the server counted it before the run continued as new.
	MaxHistory int `json:"max_history,omitempty"`
	// NextAt is when the next batch may start, by the rate.
	NextAt time.Time `json:"next_at"`
	// Samples are (time, journeys started) points of the rate window.
	Samples []RateSample `json:"samples,omitempty"`
	// PauseClass and PauseReason say why the broadcast is paused: by a
	// person (store.ClassPausedByPerson) or by its quality guard;
	// PauseKey names the guard's condition, which a resume acknowledges.
	PauseClass  store.ReasonClass `json:"pause_class,omitempty"`
	PauseReason string            `json:"pause_reason,omitempty"`
	PauseKey    string            `json:"pause_key,omitempty"`
	// Acked are the guard conditions a person resumed the broadcast over.
	Acked []string `json:"acked,omitempty"`
	// GuardSince is when the guard's watch began: the first check, or the
	// last resume.
	GuardSince time.Time `json:"guard_since,omitzero"`
	// TierWaitUntil is when a wait for messaging-limit room ends; zero
	// when the broadcast is not waiting for room. TierWaits counts the
	// waits.
	TierWaitUntil time.Time `json:"tier_wait_until,omitzero"`
	TierWaits     int       `json:"tier_waits,omitempty"`
	// GuardPauses counts the pauses of the quality guard.
	GuardPauses int `json:"guard_pauses,omitempty"`
}

// RateSample is the number of journeys a broadcast had started at a time.
type RateSample struct {
	At      time.Time `json:"at"`
	Started int       `json:"started"`
}

// BroadcastStatus answers the status query. Delivered and Failed are not
// the workflow's: BroadcastProgressOf adds them from the message event log.
type BroadcastStatus struct {
	ID      string `json:"id"`
	Journey string `json:"journey"`
	Segment string `json:"segment"`
	Phase   Phase  `json:"phase"`
	Total   int    `json:"total"`
	Started int    `json:"started"`
	// AlreadyStarted counts members whose journey existed already.
	AlreadyStarted int                           `json:"already_started"`
	Skipped        map[activities.SkipReason]int `json:"skipped,omitempty"`
	// Remaining counts members not yet handled (never below zero: the
	// segment may grow while the broadcast runs).
	Remaining int `json:"remaining"`
	// Rate is journeys started per second over the last rateWindow; Limit
	// the most allowed.
	Rate  float64 `json:"rate"`
	Limit float64 `json:"limit"`
	// Runs counts the workflow's runs (continue-as-new), this one included.
	Runs       int `json:"runs"`
	MaxHistory int `json:"max_history_events,omitempty"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	// PauseClass and PauseReason say why a paused broadcast is paused.
	PauseClass  store.ReasonClass `json:"pause_class,omitempty"`
	PauseReason string            `json:"pause_reason,omitempty"`
	// TierWaitUntil is when a wait for room under the WhatsApp messaging
	// limit ends, while the broadcast waits; TierWaits counts its waits.
	TierWaitUntil time.Time `json:"tier_wait_until,omitzero"`
	TierWaits     int       `json:"tier_waits,omitempty"`
}

// Done returns the members handled: started, found started, or skipped.
func (s BroadcastStatus) Done() int {
	n := s.Started + s.AlreadyStarted
	for _, k := range s.Skipped {
		n += k
	}
	return n
}

// BadTransitionType is the type of the ApplicationError that refuses a
// pause, resume or cancel that the broadcast's phase does not allow; its
// message names both.
const BadTransitionType = "BadTransition"

// broadcast is one run of a Broadcast workflow.
type broadcast struct {
	id   string
	in   BroadcastInput
	p    BroadcastProgress
	done bool
	// pages and batches count this run's.
	pages, batches int
	// tierLimit is the messaging limit the last check found (guard
	// version).
	tierLimit int
}

// Broadcast starts in.Journey for every member of in.Segment, at most
// in.Rate a second, one batch per activity, reading the segment a page at
// a time; after PagesPerRun pages or BatchesPerRun batches it continues as
// new with its progress.
// The journey of a contact has the id JourneyID(broadcast id, contact
// key): a repeated or restarted broadcast finds it and sends nothing
// again. Pause, resume and cancel are updates; cancel stops the members
// not started yet, and the journeys started go on.
func Broadcast(ctx workflow.Context, in BroadcastInput) (BroadcastStatus, error) {
	b, err := newBroadcast(ctx, in)
	if err != nil {
		return BroadcastStatus{}, err
	}
	if err := b.handle(ctx); err != nil {
		return BroadcastStatus{}, err
	}
	for !b.done && !b.p.Canceled {
		if b.runFull(ctx) {
			return BroadcastStatus{}, b.continueAsNew(ctx)
		}
		if err := b.page(ctx); err != nil {
			return BroadcastStatus{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return BroadcastStatus{}, err
	}
	return b.status(ctx), nil
}

// newBroadcast settles the defaults of in and its progress.
func newBroadcast(ctx workflow.Context, in BroadcastInput) (*broadcast, error) {
	if in.Journey == "" || in.Segment == "" {
		return nil, temporal.NewNonRetryableApplicationError("a broadcast needs a journey and a segment", "InvalidInput", nil)
	}
	if in.At.IsZero() {
		in.At = workflow.Now(ctx)
	}
	if in.Rate <= 0 {
		in.Rate = DefaultBroadcastRate
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&in.PageSize, DefaultPageSize}, {&in.BatchSize, DefaultBatchSize}, {&in.PagesPerRun, DefaultPagesPerRun},
		{&in.BatchesPerRun, DefaultBatchesPerRun}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	b := &broadcast{id: workflow.GetInfo(ctx).WorkflowExecution.ID, in: in}
	if in.Progress != nil {
		b.p = *in.Progress
	} else {
		b.p.Total = -1
	}
	b.in.Progress = nil
	return b, nil
}

// handle sets the status query and the pause, resume and cancel updates.
func (b *broadcast) handle(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryBroadcastStatus, func() (BroadcastStatus, error) {
		return b.status(ctx), nil
	}); err != nil {
		return fmt.Errorf("set status query: %w", err)
	}
	updates := []struct {
		name  string
		allow func() error
		apply func()
	}{
		{UpdatePause, func() error { return b.allow(UpdatePause, PhaseRunning) }, func() {
			b.p.Paused, b.p.PauseClass, b.p.PauseReason, b.p.PauseKey = true, store.ClassPausedByPerson, "paused by a person", ""
			countPause(ctx, store.ClassPausedByPerson)
		}},
		{UpdateResume, func() error { return b.allow(UpdateResume, PhasePaused) }, func() { b.resume(ctx) }},
		{UpdateCancel, func() error { return b.allow(UpdateCancel, PhaseRunning, PhasePaused) }, func() { b.p.Canceled = true }},
	}
	for _, u := range updates {
		err := workflow.SetUpdateHandlerWithOptions(ctx, u.name,
			func(workflow.Context) (BroadcastStatus, error) {
				u.apply()
				return b.status(ctx), nil
			},
			workflow.UpdateHandlerOptions{Validator: u.allow})
		if err != nil {
			return fmt.Errorf("set %s update: %w", u.name, err)
		}
	}
	return nil
}

// allow refuses an update unless the broadcast is in one of the phases.
func (b *broadcast) allow(update string, phases ...Phase) error {
	now := b.phase()
	for _, p := range phases {
		if now == p {
			return nil
		}
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("cannot %s broadcast %s: it is %s", update, b.id, now), BadTransitionType, nil)
}

func (b *broadcast) phase() Phase {
	switch {
	case b.p.Canceled:
		return PhaseCanceled
	case b.done:
		return PhaseCompleted
	case b.p.Paused:
		return PhasePaused
	}
	return PhaseRunning
}

// runFull reports whether this run has done its share and should continue
// as new.
func (b *broadcast) runFull(ctx workflow.Context) bool {
	return b.pages >= b.in.PagesPerRun || b.batches >= b.in.BatchesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// batchSize is the most journeys started by one activity: BatchSize, and
// never more than a second's worth at the rate, so that no second starts
// more than Rate.
func (b *broadcast) batchSize() int {
	return max(1, min(b.in.BatchSize, int(b.in.Rate)))
}

// page reads the next page and starts its journeys, batch by batch, until
// the run is full. The cursor moves past each batch once it is done, so
// that a continue-as-new, even in the middle of a page, never skips a
// member. Both are regular activities: a store or Temporal outage is
// retried by the server with backoff for as long as it lasts, without
// holding a workflow task, and a batch's progress survives a worker crash
// in its heartbeat.
func (b *broadcast) page(ctx workflow.Context) error {
	b.pages++
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		// A store outage is waited out, never skipped.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	req := activities.PageRequest{Segment: b.in.Segment, At: b.in.At, After: b.p.Cursor, Limit: b.in.PageSize, Count: b.p.Total < 0}
	var res activities.PageResult
	if err := workflow.ExecuteActivity(ao, activities.BroadcastPageName, req).Get(ctx, &res); err != nil {
		return fmt.Errorf("read segment %s: %w", b.in.Segment, err)
	}
	if req.Count {
		b.p.Total = res.Size
	}
	size := b.batchSize()
	for i := 0; i < len(res.Keys); {
		if b.p.Canceled || b.batches >= b.in.BatchesPerRun {
			return nil
		}
		n, err := b.batch(ctx, res.Keys[i:min(i+size, len(res.Keys))])
		if err != nil {
			return err
		}
		i += n
	}
	b.done = len(res.Keys) < b.in.PageSize && !b.p.Canceled
	return nil
}

// batch waits while paused and for the rate, then (guard version) for its
// quality guard and messaging-limit room; then it starts a batch of
// journeys, or as many as the limit has room for, and moves the cursor
// past them, unless the broadcast is canceled meanwhile. It returns how
// many of keys it handled: all of them when canceled.
func (b *broadcast) batch(ctx workflow.Context, keys []string) (int, error) {
	guarded := workflow.GetVersion(ctx, guardVersion, workflow.DefaultVersion, 1) >= 1
	limit := 0
	for {
		if err := workflow.Await(ctx, func() bool { return !b.p.Paused || b.p.Canceled }); err != nil {
			return 0, err
		}
		if b.p.Canceled {
			return len(keys), nil
		}
		wait := b.p.NextAt.Sub(workflow.Now(ctx))
		if wait > 0 {
			// Wait for the rate, unless paused or canceled meanwhile.
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return b.p.Canceled || b.p.Paused }); err != nil {
				return 0, err
			}
			continue
		}
		if !guarded {
			break
		}
		ok, room, err := b.check(ctx)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if room >= 0 {
			keys, limit = keys[:min(len(keys), room)], b.tierLimit
		}
		break
	}
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	start := workflow.Now(ctx)
	req := activities.StartBatchRequest{Broadcast: b.id, Journey: b.in.Journey, Vars: b.in.Vars, Keys: keys, TierLimit: limit}
	var n activities.BatchCounts
	if err := workflow.ExecuteActivity(ao, activities.BroadcastStartName, req).Get(ctx, &n); err != nil {
		return 0, fmt.Errorf("start journeys of broadcast %s: %w", b.id, err)
	}
	b.p.Counts.Add(n)
	done := len(keys) - n.Left
	if done > 0 {
		b.p.Cursor = keys[done-1]
	}
	b.batches++
	b.p.NextAt = start.Add(time.Duration(float64(done) / b.in.Rate * float64(time.Second)))
	b.sample(workflow.Now(ctx))
	return done, nil
}

// sample records the journeys started at now and forgets the samples that
// left the rate window (keeping one that spans it).
func (b *broadcast) sample(now time.Time) {
	b.p.Samples = append(b.p.Samples, RateSample{At: now, Started: b.p.Counts.Started})
	for len(b.p.Samples) > 2 && now.Sub(b.p.Samples[1].At) >= rateWindow {
		b.p.Samples = b.p.Samples[1:]
	}
}

// rate is the journeys started per second over the samples of the window.
func (b *broadcast) rate() float64 {
	s := b.p.Samples
	if len(s) < 2 || b.phase() != PhaseRunning {
		return 0
	}
	first, last := s[0], s[len(s)-1]
	secs := last.At.Sub(first.At).Seconds()
	if secs <= 0 {
		return 0
	}
	return math.Round(float64(last.Started-first.Started)/secs*10) / 10
}

// continueAsNew ends this run once its handlers are done, and carries the
// input and progress to the next.
func (b *broadcast) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	next := b.in
	p := b.p
	p.Runs++
	p.MaxHistory = max(p.MaxHistory, workflow.GetInfo(ctx).GetCurrentHistoryLength())
	next.Progress = &p
	return workflow.NewContinueAsNewError(ctx, BroadcastWorkflowType, next)
}

// status is the broadcast's status as the workflow knows it.
func (b *broadcast) status(ctx workflow.Context) BroadcastStatus {
	s := BroadcastStatus{
		ID: b.id, Journey: b.in.Journey, Segment: b.in.Segment, Phase: b.phase(),
		Total: max(b.p.Total, 0), Started: b.p.Counts.Started, AlreadyStarted: b.p.Counts.Existing,
		Skipped: b.p.Counts.Skipped, Rate: b.rate(), Limit: b.in.Rate, Runs: b.p.Runs + 1,
		MaxHistory: max(b.p.MaxHistory, workflow.GetInfo(ctx).GetCurrentHistoryLength()),
		PauseClass: b.p.PauseClass, PauseReason: b.p.PauseReason,
		TierWaitUntil: b.p.TierWaitUntil, TierWaits: b.p.TierWaits,
	}
	if s.Phase != PhaseCompleted {
		// Canceled: the members that will not get the journey.
		s.Remaining = max(s.Total-s.Done(), 0)
	}
	return s
}
