package activities

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// Every store.Store is a BroadcastStore.
var _ BroadcastStore = store.Store(nil)

// audience is a BroadcastStore of one segment, "vip", of its contacts.
type audience struct {
	contacts map[string]store.Contact
	down     bool
}

func (a *audience) SegmentSize(_ context.Context, name string, _ time.Time) (int, error) {
	return len(a.contacts), nil
}

func (a *audience) SegmentMembers(_ context.Context, name string, _ time.Time, after string, limit int) ([]store.Contact, error) {
	if a.down {
		return nil, errors.New("connection refused")
	}
	if name != "vip" {
		return nil, store.ErrNotFound
	}
	var out []store.Contact
	for _, k := range slices.Sorted(maps.Keys(a.contacts)) {
		if k > after && len(out) < limit {
			out = append(out, a.contacts[k])
		}
	}
	return out, nil
}

func (a *audience) Contact(_ context.Context, key string) (store.Contact, error) {
	if c, ok := a.contacts[key]; ok {
		return c, nil
	}
	return store.Contact{}, store.ErrNotFound
}

func TestBroadcastPage(t *testing.T) {
	a := &audience{contacts: map[string]store.Contact{"k1": {Key: "k1", Number: "+15550000011"}, "k2": {Key: "k2"}, "k3": {Key: "k3"}}}
	b := &Broadcasts{Store: a}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	tests := []struct {
		req  PageRequest
		want PageResult
	}{
		{PageRequest{Segment: "vip", Limit: 2, Count: true}, PageResult{Keys: []string{"k1", "k2"}, Size: 3}},
		{PageRequest{Segment: "vip", After: "k2", Limit: 2}, PageResult{Keys: []string{"k3"}}},
		{PageRequest{Segment: "vip", After: "k3", Limit: 2}, PageResult{}},
	}
	for _, tt := range tests {
		v, err := env.ExecuteActivity(BroadcastPageName, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		var got PageResult
		if err := v.Get(&got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Keys, tt.want.Keys) || got.Size != tt.want.Size {
			t.Errorf("page after %q = %+v, want %+v", tt.req.After, got, tt.want)
		}
	}
	// An unknown segment is not retried; an outage is.
	_, err := env.ExecuteActivity(BroadcastPageName, PageRequest{Segment: "nope", Limit: 2})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != UnknownSegmentType || !ae.NonRetryable() {
		t.Errorf("unknown segment: %v, want a non-retryable %s", err, UnknownSegmentType)
	}
	a.down = true
	_, err = env.ExecuteActivity(BroadcastPageName, PageRequest{Segment: "vip", Limit: 2})
	if err == nil || errors.As(err, &ae) && ae.NonRetryable() {
		t.Errorf("store down: %v, want a retryable error", err)
	}
}

func TestBroadcastStart(t *testing.T) {
	a := &audience{contacts: map[string]store.Contact{
		"k1": {Key: "k1", Number: "+15550000011", Email: "ana@example.com", TimeZone: "Europe/Berlin"},
		"k2": {Key: "k2", Email: "bo@example.com"},
		"k3": {Key: "k3", Number: "12345"},
		"k4": {Key: "k4", Number: "+15550000014"},
	}}
	var starts []journeys.StartOptions
	existing := map[string]bool{"b1/k4": true}
	b := &Broadcasts{Store: a, ContactKey: []byte("key"), Start: func(_ context.Context, o journeys.StartOptions) (bool, error) {
		starts = append(starts, o)
		return existing[o.ID], nil
	}}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	v, err := env.ExecuteActivity(BroadcastStartName, StartBatchRequest{Broadcast: "b1", Journey: "otp",
		Vars: map[string]string{"code": "493817"}, Keys: []string{"k1", "k2", "k3", "k4", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	var got BatchCounts
	if err := v.Get(&got); err != nil {
		t.Fatal(err)
	}
	want := BatchCounts{Started: 1, Existing: 1, Skipped: map[SkipReason]int{SkipNoNumber: 1, SkipInvalidAddress: 1, SkipGone: 1}}
	if got.Started != want.Started || got.Existing != want.Existing || !maps.Equal(got.Skipped, want.Skipped) {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if len(starts) != 2 {
		t.Fatalf("started %d journeys, want 2", len(starts))
	}
	s := starts[0]
	if s.ID != "b1/k1" || s.To != "+15550000011" || s.Email != "ana@example.com" || s.TimeZone != "Europe/Berlin" ||
		s.Journey.Name != "otp" || s.Vars["code"] != "493817" || string(s.ContactKey) != "key" {
		t.Errorf("start = %+v, want journey otp to k1's number, email and time zone, id b1/k1", s)
	}

	// A journey the batch cannot start is refused for the whole batch, not retried.
	for _, req := range []StartBatchRequest{
		{Broadcast: "b1", Journey: "nope", Keys: []string{"k1"}},
		{Broadcast: "b1", Journey: "otp", Keys: []string{"k1"}},
	} {
		_, err := env.ExecuteActivity(BroadcastStartName, req)
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || !ae.NonRetryable() {
			t.Errorf("journey %q, vars %v: %v, want a non-retryable error", req.Journey, req.Vars, err)
		}
	}
}

// A retried batch goes on from its last heartbeat: the contacts it had done
// are neither started again nor counted twice.
func TestBroadcastStartResumes(t *testing.T) {
	a := &audience{contacts: map[string]store.Contact{
		"k1": {Key: "k1", Number: "+15550000011"}, "k2": {Key: "k2", Number: "+15550000012"}, "k3": {Key: "k3", Number: "+15550000013"},
	}}
	var ids []string
	b := &Broadcasts{Store: a, Start: func(_ context.Context, o journeys.StartOptions) (bool, error) {
		ids = append(ids, o.ID)
		return false, nil
	}}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	env.SetHeartbeatDetails(batchProgress{Done: 2, Counts: BatchCounts{Started: 2}})
	v, err := env.ExecuteActivity(BroadcastStartName, StartBatchRequest{Broadcast: "b1", Journey: "otp",
		Vars: map[string]string{"code": "493817"}, Keys: []string{"k1", "k2", "k3"}})
	if err != nil {
		t.Fatal(err)
	}
	var got BatchCounts
	if err := v.Get(&got); err != nil {
		t.Fatal(err)
	}
	if got.Started != 3 || !slices.Equal(ids, []string{"b1/k3"}) {
		t.Errorf("counts %+v, started %v; want 3 started in all, only b1/k3 now", got, ids)
	}
}
