package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// capTests are the frequency cap tests of the suite.
var capTests = []suiteTest{
	{"ReserveSendWindow", testReserveSendWindow},
	{"ReserveSendIdempotent", testReserveSendIdempotent},
	{"ReserveSendRace", testReserveSendRace},
}

var (
	capKey   = store.CapKey{ContactKey: "c1", Channel: channels.WhatsApp, Purpose: "marketing"}
	capLimit = store.CapLimit{Sends: 2, Window: 7 * 24 * time.Hour}
)

func reserve(t *testing.T, ctx context.Context, s store.Store, key store.CapKey, id string, at time.Time) bool {
	t.Helper()
	ok, err := s.ReserveSend(ctx, key, capLimit, id, at)
	if err != nil {
		t.Fatalf("ReserveSend %s: %v", id, err)
	}
	return ok
}

// testReserveSendWindow: the limit's sends go, the next does not until
// the first leaves the window; other keys count apart.
func testReserveSendWindow(t *testing.T, ctx context.Context, s store.Store) {
	at := t0()
	for i, c := range []struct {
		key  store.CapKey
		at   time.Time
		want bool
	}{
		{capKey, at, true},
		{capKey, at.Add(24 * time.Hour), true},
		{capKey, at.Add(2 * 24 * time.Hour), false},
		{store.CapKey{ContactKey: "c1", Channel: channels.SMS, Purpose: "marketing"}, at.Add(2 * 24 * time.Hour), true},
		{store.CapKey{ContactKey: "c2", Channel: channels.WhatsApp, Purpose: "marketing"}, at.Add(2 * 24 * time.Hour), true},
		{capKey, at.Add(7*24*time.Hour - time.Microsecond), false},
		{capKey, at.Add(7 * 24 * time.Hour), true}, // the first left the window
		{capKey, at.Add(7*24*time.Hour + time.Hour), false},
	} {
		if got := reserve(t, ctx, s, c.key, fmt.Sprintf("r%d", i), c.at); got != c.want {
			t.Errorf("reservation %d (%v at %v) = %v, want %v", i, c.key, c.at.Sub(at), got, c.want)
		}
	}
	if _, err := s.ReserveSend(ctx, capKey, store.CapLimit{Sends: 1}, "r", at); err == nil {
		t.Error("ReserveSend with no window: no error")
	}
}

// testReserveSendIdempotent: a reservation id taken already reports true
// again and takes no second send.
func testReserveSendIdempotent(t *testing.T, ctx context.Context, s store.Store) {
	at := t0()
	for range 3 {
		if !reserve(t, ctx, s, capKey, "wf-1/1", at) {
			t.Fatal("reserving wf-1/1 again = false, want true")
		}
	}
	if !reserve(t, ctx, s, capKey, "wf-2/1", at) {
		t.Error("second reservation = false: the repeated one took more than one send")
	}
	if reserve(t, ctx, s, capKey, "wf-3/1", at) {
		t.Error("third reservation of a limit of 2 = true")
	}
}

// testReserveSendRace: reservations racing for the last send of a cap,
// started together, round after round: exactly one gets it each time.
func testReserveSendRace(t *testing.T, ctx context.Context, s store.Store) {
	at := t0()
	for round := range 10 {
		key := capKey
		key.ContactKey = fmt.Sprintf("c-race-%d", round)
		if !reserve(t, ctx, s, key, "first", at) {
			t.Fatal("first reservation = false")
		}
		if n := race(t, ctx, s, key, at.Add(time.Minute)); n != 1 {
			t.Errorf("round %d: %d racers got the last send, want exactly 1", round, n)
		}
	}
}

// race has 8 reservations of key race, and returns how many got a send.
func race(t *testing.T, ctx context.Context, s store.Store, key store.CapKey, at time.Time) int32 {
	return raceOf(t, func(i int) (bool, error) {
		return s.ReserveSend(ctx, key, capLimit, fmt.Sprintf("racer-%d", i), at)
	})
}

// raceOf runs 8 racers, started together, and returns how many won.
func raceOf(t *testing.T, racer func(i int) (bool, error)) int32 {
	var won atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			<-start
			ok, err := racer(i)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return won.Load()
}
