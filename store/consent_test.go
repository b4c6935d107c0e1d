package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// TestApplyConsent records opt-outs and opt-ins, some arriving late, and
// checks what each does and which one is in force after it.
func TestApplyConsent(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		granted     bool
		minute      int
		want        store.ConsentChange
		wantGranted bool
	}{
		{false, 1, store.ConsentRecorded, false},
		{false, 1, store.ConsentUnchanged, false}, // a retry
		{true, 3, store.ConsentRecorded, true},    // START
		{false, 2, store.ConsentSuperseded, true}, // an older STOP, late: START stays
		{true, 3, store.ConsentUnchanged, true},   // START again
		{false, 4, store.ConsentRecorded, false},  // a newer STOP
		{true, 3, store.ConsentSuperseded, false}, // the old START replayed: STOP stays
		{true, 4, store.ConsentRecorded, true},    // at the same time, the later wins
	}
	for i, s := range steps {
		c := store.Consent{ContactKey: "k", Channel: channels.SMS, Purpose: "marketing", Granted: s.granted,
			Source: "test", At: at.Add(time.Duration(s.minute) * time.Minute)}
		got, err := store.ApplyConsent(ctx, st, c)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Errorf("step %d: ApplyConsent(granted=%v at +%dm) = %v, want %v", i, s.granted, s.minute, got, s.want)
		}
		latest, err := st.LatestConsent(ctx, "k", channels.SMS, "marketing")
		if err != nil || latest.Granted != s.wantGranted {
			t.Errorf("step %d: in force = %+v, %v; want granted=%v", i, latest, err, s.wantGranted)
		}
	}
	hist, err := st.ConsentHistory(ctx, "k")
	if err != nil || len(hist) != 4 {
		t.Errorf("history = %d entries, %v; want the 4 recorded", len(hist), err)
	}
	// ChangeConsent says whether it recorded.
	ok, err := store.ChangeConsent(ctx, st, store.Consent{ContactKey: "k", Channel: channels.SMS, Purpose: "marketing", Source: "test", At: at})
	if err != nil || ok {
		t.Errorf("ChangeConsent of an old withdrawal = %v, %v; want false", ok, err)
	}
}
