package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/store"
)

// segments is a store with one segment, vip, and no deliveries.
type segments struct{}

func (segments) Segment(_ context.Context, name string) (store.Segment, error) {
	if name != "vip" {
		return store.Segment{}, store.ErrNotFound
	}
	return store.Segment{Name: name, Kind: store.SegmentFilter}, nil
}

func (segments) Deliveries(context.Context, string) (store.Deliveries, error) {
	return store.Deliveries{}, nil
}

// TestBroadcastRequestErrors: a broadcast that could not run is refused
// before Temporal is called, with the code and the field at fault.
func TestBroadcastRequestErrors(t *testing.T) {
	opts := api.Options{Client: unreachableClient(t), Token: "secret", Broadcasts: segments{}, Timeout: 50 * time.Millisecond}
	h := serve(t, api.New(opts))
	opts.Broadcasts = nil
	noStore := serve(t, api.New(opts))
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"no journey", `{"segment":"vip"}`, http.StatusBadRequest, api.CodeMissingField},
		{"no segment", `{"journey":"otp","vars":{"code":"123456"}}`, http.StatusBadRequest, api.CodeMissingField},
		{"unknown journey", `{"journey":"nope","segment":"vip"}`, http.StatusNotFound, api.CodeUnknownJourney},
		{"missing var", `{"journey":"otp","segment":"vip"}`, http.StatusBadRequest, api.CodeInvalidField},
		{"unknown segment", `{"journey":"otp","segment":"all","vars":{"code":"123456"}}`, http.StatusNotFound, api.CodeUnknownSegment},
		{"bad id", `{"id":"a/b","journey":"otp","segment":"vip","vars":{"code":"123456"}}`, http.StatusBadRequest, api.CodeInvalidField},
		{"negative rate", `{"journey":"otp","segment":"vip","vars":{"code":"123456"},"rate":-1}`, http.StatusBadRequest, api.CodeInvalidField},
		{"unknown field", `{"journey":"otp","segment":"vip","to":"+15551234567"}`, http.StatusBadRequest, api.CodeUnknownField},
		{"Temporal down", `{"journey":"otp","segment":"vip","vars":{"code":"123456"}}`, http.StatusServiceUnavailable, api.CodeTemporalUnavailable},
	}
	for _, tt := range tests {
		a := do(t, h, call{method: "POST", path: "/v1/broadcasts", body: tt.body})
		if a.status != tt.status || a.code(t) != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.body, tt.status, tt.code)
		}
	}
	a := do(t, noStore, call{method: "POST", path: "/v1/broadcasts", body: `{"journey":"otp","segment":"vip","vars":{"code":"123456"}}`})
	if a.status != http.StatusNotImplemented || a.code(t) != api.CodeBroadcastsOff {
		t.Errorf("no store: %d %s, want 501 %s", a.status, a.body, api.CodeBroadcastsOff)
	}
}
