package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// call sends a JSON request to the stack's HTTP server and decodes the
// answer into out; it returns the status code.
func call(t *testing.T, s *apptest.Stack, method, path, key string, body, out any) int {
	t.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// The HTTP server serves the /v1 API: an OTP journey started over HTTP
// (twice, with one Idempotency-Key) falls back to SMS once, is verified
// over HTTP, and its timeline tells so.
func TestAPIOnTheHTTPServer(t *testing.T) {
	s := apptest.Start(t)
	start := map[string]any{"journey": "otp", "to": sandbox.WhatsAppUndeliverable, "vars": map[string]string{"code": "493817"}}
	var first, again api.StartResponse
	if code := call(t, s, "POST", "/v1/journeys", "signup-42", start, &first); code != http.StatusCreated || !first.Created || first.ID != "signup-42" {
		t.Fatalf("start: %d %+v, want 201 created signup-42", code, first)
	}
	if code := call(t, s, "POST", "/v1/journeys", "signup-42", start, &again); code != http.StatusOK || again.Created || again.RunID != first.RunID {
		t.Fatalf("repeated start: %d %+v, want 200 with run %s", code, again, first.RunID)
	}

	var tl journeys.Timeline
	for deadline := time.Now().Add(30 * time.Second); tl.Awaiting == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the journey never awaited verification; timeline: %s", summary(tl))
		}
		if code := call(t, s, "GET", "/v1/journeys/signup-42", "", nil, &tl); code != http.StatusOK {
			t.Fatalf("timeline: %d", code)
		}
	}
	var res journeys.VerifyResult
	if code := call(t, s, "POST", "/v1/journeys/signup-42/verify", "", map[string]string{"code": "493817"}, &res); code != http.StatusOK || !res.Verified {
		t.Fatalf("verify: %d %+v", code, res)
	}
	if code := call(t, s, "GET", "/v1/journeys/signup-42", "", nil, &tl); code != http.StatusOK || tl.Outcome != workflows.OutcomeVerified {
		t.Fatalf("timeline after verify: %d outcome %q", code, tl.Outcome)
	}
	if got := summary(tl); !strings.Contains(got, "fallback:whatsapp") || !strings.Contains(got, "status:sms:delivered") {
		t.Errorf("timeline %q lacks the fallback and the SMS delivery", got)
	}
	if n := len(s.Sandbox.Sent()); n != 2 {
		t.Errorf("the sandbox took %d sends, want 2 (WhatsApp, then SMS): the repeated start sent again", n)
	}
}
