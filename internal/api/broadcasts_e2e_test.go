package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/workflows"
)

// A broadcast through the API on a real server: started once however often
// it is posted, its status read, paused, resumed and canceled, with the
// transitions its phase refuses answered 409, every answer as documented.
func TestEndToEndBroadcastAPI(t *testing.T) {
	s := apptest.Start(t)
	s.SeedSegment(t, "sale", 20)
	h := httptest.NewServer(newConformance(t, api.New(api.Options{
		Client: s.Client, DataConverter: s.DataConverter, Token: "secret", ContactKey: []byte(config.DevContactKey),
		Broadcasts: s.Store, Timeout: 30 * time.Second,
	})))
	t.Cleanup(h.Close)
	body := `{"id":"sale-7","journey":"otp","segment":"sale","vars":{"code":"493817"},"rate":2}`
	for _, created := range []bool{true, false} {
		a := do(t, h, call{method: "POST", path: "/v1/broadcasts", body: body})
		var r api.BroadcastResponse
		a.decode(t, &r)
		if a.status != http.StatusAccepted || r.ID != "sale-7" || r.Created != created || a.header.Get("Location") != "/v1/broadcasts/sale-7" {
			t.Fatalf("POST /v1/broadcasts: %d %s, want 202 created %v", a.status, a.body, created)
		}
	}
	// The first page tells the segment's size.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var st workflows.BroadcastStatus
		do(t, h, call{method: "GET", path: "/v1/broadcasts/sale-7"}).decode(t, &st)
		if st.Total > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	steps := []struct {
		method, path string
		status       int
		code         string
		phase        workflows.Phase
	}{
		{"GET", "/v1/broadcasts/sale-7", http.StatusOK, "", workflows.PhaseRunning},
		{"POST", "/v1/broadcasts/sale-7/resume", http.StatusConflict, api.CodeBroadcastTransition, ""},
		{"POST", "/v1/broadcasts/sale-7/pause", http.StatusOK, "", workflows.PhasePaused},
		{"POST", "/v1/broadcasts/sale-7/pause", http.StatusConflict, api.CodeBroadcastTransition, ""},
		{"GET", "/v1/broadcasts/sale-7", http.StatusOK, "", workflows.PhasePaused},
		{"POST", "/v1/broadcasts/sale-7/resume", http.StatusOK, "", workflows.PhaseRunning},
		{"POST", "/v1/broadcasts/sale-7/cancel", http.StatusOK, "", workflows.PhaseCanceled},
		{"POST", "/v1/broadcasts/sale-7/cancel", http.StatusConflict, api.CodeBroadcastTransition, ""},
		{"GET", "/v1/broadcasts/nope", http.StatusNotFound, api.CodeBroadcastNotFound, ""},
	}
	for _, st := range steps {
		a := do(t, h, call{method: st.method, path: st.path})
		if a.status != st.status {
			t.Errorf("%s %s: %d %s, want %d", st.method, st.path, a.status, a.body, st.status)
			continue
		}
		if st.code != "" {
			if a.code(t) != st.code {
				t.Errorf("%s %s: %s, want code %s", st.method, st.path, a.body, st.code)
			}
			continue
		}
		var got workflows.BroadcastStatus
		a.decode(t, &got)
		if got.Phase != st.phase || got.Total != 21 || got.ID != "sale-7" {
			t.Errorf("%s %s: %s, want phase %s of 21 contacts", st.method, st.path, a.body, st.phase)
		}
	}
	// A journey's id names no broadcast.
	run := s.RunOTP(t, "+15551230009")
	if a := do(t, h, call{method: "GET", path: "/v1/broadcasts/" + run.ID}); a.status != http.StatusNotFound || a.code(t) != api.CodeBroadcastNotFound {
		t.Errorf("GET a journey as a broadcast: %d %s, want 404", a.status, a.body)
	}
}
