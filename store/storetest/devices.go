package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// deviceTests are the device token tests of the suite.
var deviceTests = []suiteTest{
	{"DeviceTokens", testDeviceTokens},
	{"RetireDeviceTokens", testRetireDeviceTokens},
}

func tokensOf(t *testing.T, ctx context.Context, s store.Store, key string) []string {
	t.Helper()
	ds, err := s.DeviceTokens(ctx, key)
	if err != nil {
		t.Fatalf("DeviceTokens %s: %v", key, err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.Token)
	}
	return out
}

// testDeviceTokens: tokens are listed per contact, the latest added
// first; adding one again moves it first; bad input is refused.
func testDeviceTokens(t *testing.T, ctx context.Context, s store.Store) {
	if got := tokensOf(t, ctx, s, "c1"); len(got) != 0 {
		t.Fatalf("tokens of a new contact: %v, want none", got)
	}
	must(t, s.AddDeviceTokens(ctx, "c1", []string{"tok-a", "tok-b"}, t0()))
	must(t, s.AddDeviceTokens(ctx, "c1", []string{"tok-c"}, t0().Add(time.Minute)))
	must(t, s.AddDeviceTokens(ctx, "c2", []string{"tok-a"}, t0()))
	if got, want := tokensOf(t, ctx, s, "c1"), []string{"tok-c", "tok-a", "tok-b"}; !slices.Equal(got, want) {
		t.Errorf("tokens of c1: %v, want %v", got, want)
	}
	must(t, s.AddDeviceTokens(ctx, "c1", []string{"tok-b"}, t0().Add(time.Hour)))
	ds, err := s.DeviceTokens(ctx, "c1")
	must(t, err)
	if len(ds) != 3 || ds[0].Token != "tok-b" || !ds[0].AddedAt.Equal(t0().Add(time.Hour)) {
		t.Errorf("tokens of c1 after adding tok-b again: %+v, want tok-b first, added an hour later", ds)
	}
	if got := tokensOf(t, ctx, s, "c2"); !slices.Equal(got, []string{"tok-a"}) {
		t.Errorf("tokens of c2: %v, want [tok-a]", got)
	}
	if err := s.AddDeviceTokens(ctx, "", []string{"x"}, t0()); err == nil {
		t.Error("AddDeviceTokens with no contact key: no error")
	}
	if err := s.AddDeviceTokens(ctx, "c1", []string{""}, t0()); err == nil {
		t.Error("AddDeviceTokens of an empty token: no error")
	}
}

// testRetireDeviceTokens: a retired token leaves every contact that had
// it, and nothing else does.
func testRetireDeviceTokens(t *testing.T, ctx context.Context, s store.Store) {
	must(t, s.AddDeviceTokens(ctx, "c1", []string{"tok-a", "tok-b", "tok-c"}, t0()))
	must(t, s.AddDeviceTokens(ctx, "c2", []string{"tok-a", "tok-d"}, t0()))
	must(t, s.RetireDeviceTokens(ctx, []string{"tok-a", "tok-c", "tok-unknown"}))
	must(t, s.RetireDeviceTokens(ctx, nil))
	if got := tokensOf(t, ctx, s, "c1"); !slices.Equal(got, []string{"tok-b"}) {
		t.Errorf("tokens of c1: %v, want [tok-b]", got)
	}
	if got := tokensOf(t, ctx, s, "c2"); !slices.Equal(got, []string{"tok-d"}) {
		t.Errorf("tokens of c2: %v, want [tok-d]", got)
	}
}
