package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// tierTests are the messaging-limit and quality tests of the suite.
var tierTests = []suiteTest{
	{"ReserveRecipientWindow", testReserveRecipientWindow},
	{"ReserveRecipientRace", testReserveRecipientRace},
	{"NumberStates", testNumberStates},
	{"RecentOutcomes", testRecentOutcomes},
}

func reserveRecipient(t *testing.T, ctx context.Context, s store.Store, key string, limit int, at time.Time) bool {
	t.Helper()
	ok, err := s.ReserveRecipient(ctx, key, limit, at)
	if err != nil {
		t.Fatalf("ReserveRecipient %s: %v", key, err)
	}
	return ok
}

// testReserveRecipientWindow: a limit of 2 lets two recipients through; a
// recipient counted already goes again without counting; a third waits
// until the oldest leaves the rolling window, which TierUsage reports.
func testReserveRecipientWindow(t *testing.T, ctx context.Context, s store.Store) {
	at := t0()
	for i, c := range []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Minute, true}, // counted already: not again
		{"b", time.Hour, true},
		{"c", 2 * time.Hour, false},
		{"a", 3 * time.Hour, true},  // still counted (its time moves on)
		{"c", 25 * time.Hour, true}, // b (+1h) left the window at +25h
		{"d", 26 * time.Hour, false},
		{"d", 27 * time.Hour, true}, // a (+3h) left at +27h
	} {
		if got := reserveRecipient(t, ctx, s, c.key, 2, at.Add(c.at)); got != c.want {
			t.Errorf("reservation %d (%s at +%v) = %v, want %v", i, c.key, c.at, got, c.want)
		}
	}
	u, err := s.TierUsage(ctx, at.Add(27*time.Hour))
	must(t, err)
	if want := (store.TierUsage{Recipients: 2, Oldest: at.Add(25 * time.Hour)}); u != want {
		t.Errorf("TierUsage = %+v, want %+v", u, want)
	}
	if u, err = s.TierUsage(ctx, at.Add(100*time.Hour)); err != nil || u != (store.TierUsage{}) {
		t.Errorf("TierUsage long after = %+v, %v; want none", u, err)
	}
	if _, err := s.ReserveRecipient(ctx, "", 1, at); err == nil {
		t.Error("ReserveRecipient with no contact key: no error")
	}
	if reserveRecipient(t, ctx, s, "z", 0, at.Add(200*time.Hour)) {
		t.Error("a limit of 0 let a recipient through")
	}
}

// testReserveRecipientRace: new recipients racing for the last slot of the
// window, round after round: exactly one gets it each time.
func testReserveRecipientRace(t *testing.T, ctx context.Context, s store.Store) {
	for round := range 10 {
		at := t0().Add(time.Duration(round) * 48 * time.Hour) // a fresh window each round
		if !reserveRecipient(t, ctx, s, fmt.Sprintf("first-%d", round), 2, at) {
			t.Fatal("first reservation = false")
		}
		n := raceOf(t, func(i int) (bool, error) {
			return s.ReserveRecipient(ctx, fmt.Sprintf("racer-%d-%d", round, i), 2, at.Add(time.Minute))
		})
		if n != 1 {
			t.Errorf("round %d: %d racers got the last slot, want exactly 1", round, n)
		}
	}
}

// testNumberStates: a state is stored per account; empty fields keep the
// stored ones; Flagged is always replaced.
func testNumberStates(t *testing.T, ctx context.Context, s store.Store) {
	at := t0()
	must(t, s.SetNumberState(ctx, store.NumberState{Account: "waba-2", Tier: "TIER_2K", UpdatedAt: at}))
	must(t, s.SetNumberState(ctx, store.NumberState{Account: "waba-1", Tier: "TIER_250", Event: "ONBOARDING", UpdatedAt: at}))
	must(t, s.SetNumberState(ctx, store.NumberState{Account: "waba-1", Event: "FLAGGED", Quality: "RED", Flagged: true, UpdatedAt: at.Add(time.Hour)}))
	got, err := s.NumberStates(ctx)
	must(t, err)
	want := []store.NumberState{
		{Account: "waba-1", Tier: "TIER_250", Quality: "RED", Event: "FLAGGED", Flagged: true, UpdatedAt: at.Add(time.Hour)},
		{Account: "waba-2", Tier: "TIER_2K", UpdatedAt: at},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NumberStates = %+v\nwant %+v", got, want)
	}
	must(t, s.SetNumberState(ctx, store.NumberState{Account: "waba-1", Event: "UNFLAGGED", UpdatedAt: at.Add(2 * time.Hour)}))
	got, err = s.NumberStates(ctx)
	must(t, err)
	if got[0].Flagged || got[0].Event != "UNFLAGGED" || got[0].Tier != "TIER_250" {
		t.Errorf("after UNFLAGGED: %+v", got[0])
	}
	if err := s.SetNumberState(ctx, store.NumberState{Tier: "TIER_2K"}); err == nil {
		t.Error("SetNumberState without an account: no error")
	}
}

// testRecentOutcomes: the newest n messages on a channel under a prefix,
// one per message whatever its statuses, failures by code; other channels,
// skips and other prefixes are not counted.
func testRecentOutcomes(t *testing.T, ctx context.Context, s store.Store) {
	seq := 0
	add := func(wf string, ch channels.Channel, provider, id, code string, statuses ...store.EventStatus) {
		for _, st := range statuses {
			seq++
			e := store.MessageEvent{Provider: provider, MessageID: id, Status: st, WorkflowID: wf, Attempt: 1, Channel: ch,
				ErrorCode: code, At: t0().Add(time.Duration(seq) * time.Second)}
			_, err := s.RecordEvent(ctx, e)
			must(t, err)
		}
	}
	wa := channels.WhatsApp
	add("b1/a", wa, "whatsapp", "w1", "131049", store.EventAccepted, store.EventFailed) // oldest
	add("b1/b", wa, "whatsapp", "w2", "", store.EventAccepted, store.EventDelivered, store.EventRead)
	add("b1/c", wa, store.LocalProvider, "b1/c#1", "132015", store.EventFailed) // refused at send
	add("b1/d", wa, store.LocalProvider, "b1/d#1", "", store.EventSkipped)
	add("b1/e", channels.SMS, "twilio", "SM1", "30003", store.EventAccepted, store.EventFailed)
	add("b10/f", wa, "whatsapp", "w3", "131026", store.EventFailed)
	add("b1/g", wa, "whatsapp", "w4", "131026", store.EventAccepted, store.EventFailed) // newest
	tests := []struct {
		n    int
		want store.SendOutcomes
	}{
		{10, store.SendOutcomes{Sends: 4, Failures: map[string]int{"131049": 1, "132015": 1, "131026": 1}}},
		{2, store.SendOutcomes{Sends: 2, Failures: map[string]int{"132015": 1, "131026": 1}}},
		{1, store.SendOutcomes{Sends: 1, Failures: map[string]int{"131026": 1}}},
	}
	for _, tt := range tests {
		got, err := s.RecentOutcomes(ctx, "b1/", wa, time.Time{}, tt.n)
		must(t, err)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RecentOutcomes(n=%d) = %+v, want %+v", tt.n, got, tt.want)
		}
	}
	got, err := s.RecentOutcomes(ctx, "b2/", wa, time.Time{}, 10)
	must(t, err)
	if got.Sends != 0 || got.Failed() != 0 {
		t.Errorf("RecentOutcomes of an empty prefix = %+v", got)
	}
	// Since the third message (b1/c, at seq 6): b1/c and b1/g.
	got, err = s.RecentOutcomes(ctx, "b1/", wa, t0().Add(6*time.Second), 10)
	must(t, err)
	if want := (store.SendOutcomes{Sends: 2, Failures: map[string]int{"132015": 1, "131026": 1}}); !reflect.DeepEqual(got, want) {
		t.Errorf("RecentOutcomes since the third message = %+v, want %+v", got, want)
	}
	if got.Failed("131049", "131026") != 1 || got.Failed() != 2 {
		t.Errorf("Failed by code of %+v: wrong", got)
	}
	// Since between w1's acceptance (seq 1) and its failure (seq 2): w1
	// was sent before, so its failure is not counted.
	got, err = s.RecentOutcomes(ctx, "b1/", wa, t0().Add(2*time.Second), 10)
	must(t, err)
	if want := (store.SendOutcomes{Sends: 3, Failures: map[string]int{"132015": 1, "131026": 1}}); !reflect.DeepEqual(got, want) {
		t.Errorf("RecentOutcomes since w1 was sent = %+v, want %+v", got, want)
	}
}
