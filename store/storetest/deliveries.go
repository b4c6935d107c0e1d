package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// testDeliveries: journeys under a prefix count as delivered when a
// message reached them (read implies delivered), as failed when a message
// failed and none reached them; journeys of other prefixes, even ones that
// sort next to it, are not counted.
func testDeliveries(t *testing.T, ctx context.Context, s store.Store) {
	add := func(wf string, n int, statuses ...store.EventStatus) {
		for i, st := range statuses {
			e := store.MessageEvent{Provider: "whatsapp", MessageID: fmt.Sprintf("%s-%d-%d", wf, n, i), Status: st,
				WorkflowID: wf, Attempt: n, At: t0().Add(time.Duration(i) * time.Second)}
			_, err := s.RecordEvent(ctx, e)
			must(t, err)
		}
	}
	add("b1/a", 1, store.EventAccepted, store.EventDelivered)
	add("b1/b", 1, store.EventAccepted, store.EventRead)
	add("b1/c", 1, store.EventFailed)
	add("b1/c", 2, store.EventAccepted, store.EventDelivered) // the fallback delivered
	add("b1/d", 1, store.EventFailed)
	add("b1/e", 1, store.EventAccepted)
	add("b10/x", 1, store.EventDelivered)
	add("b1", 1, store.EventDelivered)
	add("b1.x", 1, store.EventFailed)
	tests := []struct {
		prefix string
		want   store.Deliveries
	}{
		{"b1/", store.Deliveries{Delivered: 3, Failed: 1}},
		{"b10/", store.Deliveries{Delivered: 1}},
		{"b2/", store.Deliveries{}},
	}
	for _, tt := range tests {
		got, err := s.Deliveries(ctx, tt.prefix)
		must(t, err)
		if got != tt.want {
			t.Errorf("Deliveries(%q) = %+v, want %+v", tt.prefix, got, tt.want)
		}
	}
	if _, err := s.Deliveries(ctx, ""); err == nil {
		t.Error("Deliveries(\"\"): no error")
	}
}
