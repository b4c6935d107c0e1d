package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/store"
)

// fakeTemporal is a webhooks.Signaler whose health check fails while down.
type fakeTemporal struct{ down bool }

func (f *fakeTemporal) SignalWorkflow(context.Context, string, string, string, any) error { return nil }

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	if f.down {
		return nil, errors.New("connection refused")
	}
	return &client.CheckHealthResponse{}, nil
}

// fakeStore answers Ping, failing while down. Its other methods are not
// called.
type fakeStore struct {
	store.Store
	down bool
}

func (f *fakeStore) Ping(context.Context) error {
	if f.down {
		return errors.New("database is closed")
	}
	return nil
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name                    string
		temporalDown, storeDown bool
		wantStatus              int
		wantDown                []string
	}{
		{"all up", false, false, http.StatusOK, nil},
		{"temporal down", true, false, http.StatusServiceUnavailable, []string{"temporal"}},
		{"store down", false, true, http.StatusServiceUnavailable, []string{"store"}},
		{"both down", true, true, http.StatusServiceUnavailable, []string{"store", "temporal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MetricsHandler(MetricsOptions{Temporal: &fakeTemporal{down: tt.temporalDown}, Store: &fakeStore{down: tt.storeDown}})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			var r Readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if r.Ready != (tt.wantStatus == http.StatusOK) || !slices.Equal(r.Down, tt.wantDown) || len(r.Checks) != 2 {
				t.Errorf("body %+v, want down %v", r, tt.wantDown)
			}
			for _, name := range tt.wantDown {
				if r.Checks[name] != "unreachable" {
					t.Errorf("checks[%s] = %q", name, r.Checks[name])
				}
			}
		})
	}
}

// The public HTTP server answers /healthz, and leaves /readyz and /metrics
// to the metrics server.
func TestHTTPHandlerKeepsOperationsPrivate(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	h := HTTPHandler(HTTPOptions{Config: cfg, Temporal: &fakeTemporal{}, Messages: &fakeStore{}})
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusNotFound, "/metrics": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s on the HTTP server = %d, want %d", path, rec.Code, want)
		}
	}
}
