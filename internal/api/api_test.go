package api_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/api"
)

// unreachableClient returns a Temporal client of a frontend that does not
// listen: every call fails.
func unreachableClient(t *testing.T) client.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// call is one request to the API.
type call struct {
	method, path string
	body         string
	header       map[string]string
}

// answer is what the API answered.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code(t *testing.T) string { return errorCode(t, a.body) }

// decode decodes the body into v.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// serve serves h, checked against the OpenAPI document, on loopback.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newConformance(t, h))
	t.Cleanup(srv.Close)
	return srv
}

// do sends c to srv. A body goes as application/json unless c sets
// Content-Type; Authorization is "Bearer secret" unless c sets it ("" sends
// none).
func do(t *testing.T, srv *httptest.Server, c call) answer {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer secret")
	for k, v := range c.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	res, err := srv.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

func TestAuth(t *testing.T) {
	c := unreachableClient(t)
	open := serve(t, api.New(api.Options{Client: c, Token: "secret", Timeout: 50 * time.Millisecond}))
	closed := serve(t, api.New(api.Options{Client: c}))
	noAuth := serve(t, api.New(api.Options{Client: c, Exempt: func(*http.Request) bool { return true }}))
	// A bad body shows that the call got past authentication (400) without
	// reaching Temporal.
	bad := call{method: "POST", path: "/v1/journeys", body: "{"}
	with := func(auth string) call {
		c := bad
		c.header = map[string]string{"Authorization": auth}
		return c
	}
	tests := []struct {
		name    string
		h       *httptest.Server
		c       call
		status  int
		code    string
		headers map[string]string
	}{
		{"no header", open, with(""), 401, api.CodeUnauthorized, map[string]string{"WWW-Authenticate": `Bearer realm="switchback"`}},
		{"wrong token", open, with("Bearer nope"), 401, api.CodeUnauthorized, map[string]string{"WWW-Authenticate": `Bearer realm="switchback"`}},
		{"token prefix", open, with("Bearer secre"), 401, api.CodeUnauthorized, nil},
		{"basic scheme", open, with("Basic c2VjcmV0"), 401, api.CodeUnauthorized, nil},
		{"bare token", open, with("secret"), 401, api.CodeUnauthorized, nil},
		{"right token", open, with("Bearer secret"), 400, api.CodeInvalidJSON, nil},
		{"scheme in lower case", open, with("bearer secret"), 400, api.CodeInvalidJSON, nil},
		{"unauthorized timeline", open, call{method: "GET", path: "/v1/journeys/x", header: map[string]string{"Authorization": ""}}, 401, api.CodeUnauthorized, nil},
		{"unauthorized cancel", open, call{method: "DELETE", path: "/v1/journeys/x", header: map[string]string{"Authorization": "Bearer x"}}, 401, api.CodeUnauthorized, nil},
		{"no token configured", closed, with("Bearer secret"), 503, api.CodeNotConfigured, nil},
		{"no token configured, none sent", closed, with(""), 503, api.CodeNotConfigured, nil},
		{"no auth", noAuth, with(""), 400, api.CodeInvalidJSON, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, tc.h, tc.c)
			if a.status != tc.status || a.code(t) != tc.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			for k, v := range tc.headers {
				if got := a.header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
	// The document needs no token, even on a closed API.
	for _, h := range []*httptest.Server{open, closed} {
		if a := do(t, h, call{method: "GET", path: "/v1/openapi.json", header: map[string]string{"Authorization": ""}}); a.status != 200 {
			t.Errorf("GET /v1/openapi.json without a token: %d %s", a.status, a.body)
		}
	}
	if a := do(t, closed, with("")); !strings.Contains(string(a.body), "SWITCHBACK_API_TOKEN") {
		t.Errorf("a closed API does not tell the operator what to set: %s", a.body)
	}
}

// TestRequestErrors covers the refusals that need no Temporal: each names
// what is wrong.
func TestRequestErrors(t *testing.T) {
	h := serve(t, api.New(api.Options{Client: unreachableClient(t), Token: "secret", MaxBodyBytes: 1 << 10, Timeout: 50 * time.Millisecond}))
	otp := `{"journey":"otp","to":"+15551234567","vars":{"code":"493817"}}`
	tests := []struct {
		name   string
		c      call
		status int
		code   string
		says   string // the message names this
	}{
		{"empty body", call{method: "POST", path: "/v1/journeys", body: " "}, 400, api.CodeInvalidJSON, "empty"},
		{"broken JSON", call{method: "POST", path: "/v1/journeys", body: `{"journey":`}, 400, api.CodeInvalidJSON, "middle"},
		{"not JSON", call{method: "POST", path: "/v1/journeys", body: `journey=otp`}, 400, api.CodeInvalidJSON, "not valid JSON"},
		{"array", call{method: "POST", path: "/v1/journeys", body: `[1]`}, 400, api.CodeInvalidJSON, "object"},
		{"two objects", call{method: "POST", path: "/v1/journeys", body: otp + otp}, 400, api.CodeInvalidJSON, "more than one"},
		{"unknown field", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","phone":"+15551234567"}`}, 400, api.CodeUnknownField, `"phone"`},
		{"var of wrong type", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","vars":{"code":493817}}`}, 400, api.CodeInvalidField, "field vars holds a number where a string is expected"},
		{"to of wrong type", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":15551234567}`}, 400, api.CodeInvalidField, "to"},
		{"no journey", call{method: "POST", path: "/v1/journeys", body: `{"to":"+15551234567"}`}, 400, api.CodeMissingField, "journey"},
		{"unknown journey", call{method: "POST", path: "/v1/journeys", body: `{"journey":"nope","to":"+15551234567"}`}, 404, api.CodeUnknownJourney, `"nope"`},
		{"no recipient", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","vars":{"code":"1"}}`}, 400, api.CodeMissingField, "to"},
		{"bad recipient", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"5551234567","vars":{"code":"1"}}`}, 400, api.CodeInvalidField, "E.164"},
		{"missing var", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567"}`}, 400, api.CodeMissingField, "vars.code"},
		{"bad email", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","email":"nobody","vars":{"code":"493817"}}`}, 400, api.CodeInvalidField, "email"},
		{"bad time zone", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","timezone":"Mars/Base","vars":{"code":"493817"}}`}, 400, api.CodeInvalidField, "timezone"},
		{"bad push token", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","push_tokens":["tok-1:abc","two words"],"vars":{"code":"493817"}}`}, 400, api.CodeInvalidField, "push_tokens[1]"},
		{"push tokens not a list", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","push_tokens":"tok-1","vars":{"code":"493817"}}`}, 400, api.CodeInvalidField, "push_tokens"},
		{"key with space", call{method: "POST", path: "/v1/journeys", body: otp, header: map[string]string{"Idempotency-Key": "a b"}}, 400, api.CodeInvalidHeader, "Idempotency-Key"},
		{"key too long", call{method: "POST", path: "/v1/journeys", body: otp, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}, 400, api.CodeInvalidHeader, "255"},
		{"no content type", call{method: "POST", path: "/v1/journeys", body: otp, header: map[string]string{"Content-Type": ""}}, 415, api.CodeUnsupportedMedia, "application/json"},
		{"form", call{method: "POST", path: "/v1/journeys", body: otp, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, api.CodeUnsupportedMedia, "x-www-form-urlencoded"},
		{"too large", call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","vars":{"code":"` + strings.Repeat("1", 2<<10) + `"}}`}, 413, api.CodeBodyTooLarge, "1024"},
		{"event without name", call{method: "POST", path: "/v1/journeys/x/events", body: `{"vars":{"a":"b"}}`}, 400, api.CodeMissingField, "name"},
		{"event with data", call{method: "POST", path: "/v1/journeys/x/events", body: `{"name":"shipped","data":{}}`}, 400, api.CodeUnknownField, `"data"`},
		{"event as text", call{method: "POST", path: "/v1/journeys/x/events", body: `shipped`, header: map[string]string{"Content-Type": "text/plain"}}, 415, api.CodeUnsupportedMedia, "text/plain"},
		{"verify without code", call{method: "POST", path: "/v1/journeys/x/verify", body: `{}`}, 400, api.CodeMissingField, "code"},
		{"verify code as number", call{method: "POST", path: "/v1/journeys/x/verify", body: `{"code":493817}`}, 400, api.CodeInvalidField, "code"},
		{"unknown endpoint", call{method: "GET", path: "/v1/contacts"}, 404, api.CodeNotFound, "/v1/contacts"},
		{"wrong method", call{method: "PATCH", path: "/v1/journeys/x"}, 405, api.CodeMethodNotAllowed, "PATCH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, h, tc.c)
			var e api.ErrorResponse
			a.decode(t, &e)
			if a.status != tc.status || e.Error == nil || e.Error.Code != tc.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			if !strings.Contains(e.Error.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Error.Message, tc.says)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if a := do(t, h, call{method: "PATCH", path: "/v1/journeys/x"}); a.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

// TestTemporalUnavailable checks that a request Temporal does not answer
// gets 503 with Retry-After, so the caller retries: nothing is lost
// silently.
func TestTemporalUnavailable(t *testing.T) {
	h := serve(t, api.New(api.Options{Client: unreachableClient(t), Token: "secret", Timeout: 300 * time.Millisecond}))
	tests := []call{
		{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","vars":{"code":"493817"}}`, header: map[string]string{"Idempotency-Key": "k1"}},
		{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551234567","vars":{"code":"493817"}}`},
		{method: "POST", path: "/v1/journeys/k1/events", body: `{"name":"shipped"}`},
		{method: "POST", path: "/v1/journeys/k1/verify", body: `{"code":"493817"}`},
		{method: "GET", path: "/v1/journeys/k1"},
		{method: "DELETE", path: "/v1/journeys/k1"},
	}
	for _, c := range tests {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			a := do(t, h, c)
			if a.status != http.StatusServiceUnavailable || a.code(t) != api.CodeTemporalUnavailable {
				t.Fatalf("%d %s, want 503 %s", a.status, a.body, api.CodeTemporalUnavailable)
			}
			if a.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}
