package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// outboxTests run on a store with the outbox on.
var outboxTests = []suiteTest{
	{"OutboxLease", testOutboxLease},
	{"OutboxRetry", testOutboxRetry},
	{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
}

// outboxEvents records n events of distinct messages and returns them.
func outboxEvents(t *testing.T, ctx context.Context, s store.Store, n int) []store.MessageEvent {
	t.Helper()
	var es []store.MessageEvent
	for i := range n {
		e := event(store.EventAccepted, t0().Add(time.Duration(i)*time.Second))
		e.MessageID = fmt.Sprintf("wamid.%d", i)
		added, err := s.RecordEvent(ctx, e)
		must(t, err)
		if !added {
			t.Fatalf("RecordEvent(%s) was not new", e.MessageID)
		}
		es = append(es, e)
	}
	return es
}

// claim claims up to limit events at now for a 5-minute lease.
func claim(t *testing.T, ctx context.Context, s store.Store, now time.Time, limit int) []store.OutboxEvent {
	t.Helper()
	got, err := s.ClaimOutbox(ctx, now, 5*time.Minute, limit)
	must(t, err)
	return got
}

// wantClaimed checks the events of a claim, and their claim counts.
func wantClaimed(t *testing.T, what string, got []store.OutboxEvent, want []store.MessageEvent, claims int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: claimed %d events %+v, want %d", what, len(got), got, len(want))
	}
	for i, o := range got {
		if o.Event != want[i] || o.Claims != claims || o.Seq == 0 {
			t.Errorf("%s: claim %d = %+v, want event %+v with %d claims", what, i, o, want[i], claims)
		}
	}
}

// testOutboxOff: without Options.EventOutbox, events never reach the outbox.
func testOutboxOff(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.RecordEvent(ctx, event(store.EventAccepted, t0()))
	must(t, err)
	if got := claim(t, ctx, s, time.Now().Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("ClaimOutbox without the outbox = %+v, want none", got)
	}
}

// testOutboxLease: new events are due at once, oldest first; a duplicate
// adds none; a claimed event is leased until its lease runs out; an
// acknowledged one is gone.
func testOutboxLease(t *testing.T, ctx context.Context, s store.Store) {
	es := outboxEvents(t, ctx, s, 3)
	if added, err := s.RecordEvent(ctx, es[0]); err != nil || added {
		t.Fatalf("RecordEvent of a duplicate = %v, %v; want false", added, err)
	}
	now := time.Now()
	first := claim(t, ctx, s, now, 2)
	wantClaimed(t, "first claim", first, es[:2], 1)
	wantClaimed(t, "second claim", claim(t, ctx, s, now, 10), es[2:], 1)
	wantClaimed(t, "claim within the leases", claim(t, ctx, s, now.Add(4*time.Minute), 10), nil, 0)

	must(t, s.AckOutbox(ctx, first[0].Seq))
	must(t, s.AckOutbox(ctx, first[0].Seq)) // twice is not an error
	wantClaimed(t, "claim after the leases", claim(t, ctx, s, now.Add(6*time.Minute), 10), es[1:], 2)
}

// testOutboxRetry: a retried event is due at its new time; a stale claim
// changes nothing.
func testOutboxRetry(t *testing.T, ctx context.Context, s store.Store) {
	es := outboxEvents(t, ctx, s, 1)
	now := time.Now()
	c := claim(t, ctx, s, now, 1)
	wantClaimed(t, "claim", c, es, 1)
	ok, err := s.RetryOutbox(ctx, c[0].Seq, c[0].Claims, now.Add(time.Minute), "HTTP 500")
	must(t, err)
	if !ok {
		t.Fatal("RetryOutbox of the current claim = false, want true")
	}
	wantClaimed(t, "claim before the retry", claim(t, ctx, s, now.Add(30*time.Second), 1), nil, 0)
	again := claim(t, ctx, s, now.Add(time.Minute), 1)
	wantClaimed(t, "claim at the retry", again, es, 2)
	// The first claim's holder is late: its retry must not shorten the new lease.
	ok, err = s.RetryOutbox(ctx, c[0].Seq, c[0].Claims, now.Add(time.Minute), "late")
	must(t, err)
	if ok {
		t.Error("RetryOutbox of a stale claim = true, want false")
	}
	wantClaimed(t, "claim within the new lease", claim(t, ctx, s, now.Add(2*time.Minute), 1), nil, 0)
}

// testOutboxConcurrentClaims: claimers racing on one store each get
// different events, and together all of them.
func testOutboxConcurrentClaims(t *testing.T, ctx context.Context, s store.Store) {
	es := outboxEvents(t, ctx, s, 24)
	now := time.Now()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimOutbox(ctx, now, time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, o := range got {
					seen[o.Event.MessageID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != len(es) {
		t.Errorf("claimed %d distinct events, want %d", len(seen), len(es))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s claimed %d times within its lease, want once", id, n)
		}
	}
}
