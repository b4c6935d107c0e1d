package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// BroadcastOptions configures the broadcast benchmark.
type BroadcastOptions struct {
	// Recipients is the size of the segment.
	Recipients int
	// Rate is the broadcast's rate (journeys started per second); zero:
	// the workflow's default.
	Rate float64
	// PageSize is the broadcast's page size; zero: the workflow's default.
	PageSize int
	// Settle bounds the wait for deliveries after the broadcast ends: it
	// stops when this long passes without a new delivery. Zero: 30s.
	Settle time.Duration
	// Progress, if set, is called with the broadcast's status every
	// ProgressEvery while it runs, for a long run to show how far it is.
	Progress func(workflows.BroadcastStatus)
	// ProgressEvery is the period of Progress. Zero: 30s.
	ProgressEvery time.Duration
}

// Broadcast seeds a segment of o.Recipients contacts, broadcasts
// OTPJourney to it and reports the broadcast's run time and start rate, its
// runs and their longest history, the deliveries counted when it settled,
// and how much Temporal's database and the store grew, per 1,000
// recipients.
func (e *Env) Broadcast(ctx context.Context, o BroadcastOptions) (Result, error) {
	if e.InMemory || e.Remote || e.Config.DatabaseURL != "" {
		return Result{}, errors.New("bench: the broadcast benchmark needs a file-backed embedded server (Options.DataDir, no TemporalAddress) with the store in SQLite")
	}
	if o.Settle <= 0 {
		o.Settle = 30 * time.Second
	}
	seedBegin := time.Now()
	if err := e.seedSegment(ctx, "bench", o.Recipients); err != nil {
		return Result{}, err
	}
	seeded := time.Since(seedBegin)
	time.Sleep(time.Second) // let the WAL settle
	t0, s0 := e.databaseBytes(), e.storeBytes()
	id := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	// OTPJourney ends on delivery, as a one-message sale does; the
	// built-in otp would wait 10 minutes more for its code, and a long
	// broadcast would run mostly those waits' ends.
	in := workflows.BroadcastInput{Journey: OTPJourneyName, Segment: "bench", Vars: map[string]string{"code": benchCode},
		Rate: o.Rate, PageSize: o.PageSize}
	begin := time.Now()
	if _, _, err := workflows.StartBroadcast(ctx, e.Client, id, in); err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	stop := e.reportProgress(ctx, id, o)
	var st workflows.BroadcastStatus
	err := e.Client.GetWorkflow(ctx, id, "").Get(ctx, &st)
	stop()
	if err != nil {
		return Result{}, fmt.Errorf("bench: broadcast %s: %w", id, err)
	}
	took := time.Since(begin)
	if st.Started != o.Recipients {
		return Result{}, fmt.Errorf("bench: broadcast started %d journeys of %d: %+v", st.Started, o.Recipients, st)
	}
	sizes, err := workflows.RunHistories(ctx, e.Client, id)
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	delivered, settled, err := e.settleDeliveries(ctx, id, o.Recipients, o.Settle)
	if err != nil {
		return Result{}, err
	}
	time.Sleep(time.Second)
	t1, s1 := e.databaseBytes(), e.storeBytes()
	const mib, kib = 1 << 20, 1 << 10
	n := float64(o.Recipients)
	return Result{Name: "broadcast", Fields: []Field{
		{"n", n},
		{"seed_s", round(seeded.Seconds())},
		{"run_s", round(took.Seconds())},
		{"starts_per_s", round(float64(st.Started) / took.Seconds())},
		{"runs", float64(len(sizes))},
		{"max_history_events", float64(slices.Max(sizes))},
		{"delivered", float64(delivered)},
		{"delivered_after_s", round(settled.Seconds())},
		{"temporal_db_mib", round(float64(t1-t0) / mib)},
		{"store_db_mib", round(float64(s1-s0) / mib)},
		{"temporal_kib_per_recipient", round(float64(t1-t0) / kib / n)},
		{"store_kib_per_recipient", round(float64(s1-s0) / kib / n)},
	}}, nil
}

// reportProgress calls o.Progress with the status of broadcast id every
// o.ProgressEvery until the returned function is called.
func (e *Env) reportProgress(ctx context.Context, id string, o BroadcastOptions) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(cmp.Or(o.ProgressEvery, 30*time.Second))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if st, err := workflows.GetBroadcastStatus(ctx, e.Client, e.store, id); err == nil {
				o.Progress(st)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// seedSegment stores n contacts with distinct numbers, tagged name, and
// the segment name of them.
func (e *Env) seedSegment(ctx context.Context, name string, n int) error {
	key := e.Config.ContactKeyOrDefault()
	for i := range n {
		num := fmt.Sprintf("+1555%07d", 3000000+i)
		c := store.Contact{Key: journeys.ContactKey(key, num), Number: num, Tags: []string{name}}
		if err := e.store.UpsertContact(ctx, c); err != nil {
			return fmt.Errorf("bench: seed contacts: %w", err)
		}
	}
	seg := store.Segment{Name: name, Kind: store.SegmentFilter, Filter: store.ContactFilter{Tags: []string{name}}, CreatedAt: time.Now()}
	if err := e.store.SaveSegment(ctx, seg, nil); err != nil {
		return fmt.Errorf("bench: save segment: %w", err)
	}
	return nil
}

// settleDeliveries waits until every journey of the broadcast id has a
// delivery, or until quiet passes without a new one, and returns the
// deliveries and how long after now the last one came.
func (e *Env) settleDeliveries(ctx context.Context, id string, want int, quiet time.Duration) (int, time.Duration, error) {
	begin, last, lastAt := time.Now(), -1, time.Now()
	for {
		d, err := e.store.Deliveries(ctx, id+"/")
		if err != nil {
			return 0, 0, fmt.Errorf("bench: %w", err)
		}
		if d.Delivered != last {
			last, lastAt = d.Delivered, time.Now()
		}
		if last >= want || time.Since(lastAt) > quiet {
			return last, lastAt.Sub(begin), nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("bench: deliveries of %s: %w", id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// storeBytes returns the size of the SQLite store's files.
func (e *Env) storeBytes() int64 {
	db := filepath.Join(e.DataDir, app.StoreFile)
	return filesBytes(db, db+"-wal", db+"-shm")
}
