package sendhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"http date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"capped", map[string]string{"Retry-After": "86400"}, maxRetryAfter},
		{"rate limit reset", map[string]string{"X-RateLimit-Reset": "1777636812"}, 12 * time.Second},
		{"retry-after wins", map[string]string{"Retry-After": "2", "X-RateLimit-Reset": "1777636812"}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTrackerWritten(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var tr Tracker
	if tr.Written() {
		t.Fatal("written before any request")
	}
	req, err := http.NewRequestWithContext(tr.Trace(context.Background()), http.MethodPost, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !tr.Written() {
		t.Error("not marked written after a request")
	}

	var unreached Tracker
	srv.Close()
	req, _ = http.NewRequestWithContext(unreached.Trace(context.Background()), http.MethodPost, srv.URL, nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request to a closed server succeeded")
	}
	if unreached.Written() {
		t.Error("marked written although nothing listened")
	}
}
