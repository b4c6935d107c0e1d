package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/webhook"
)

// recorder is a receiver that keeps every request and answers code.
type recorder struct {
	mu     sync.Mutex
	code   int
	got    []*http.Request
	bodies [][]byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.got = append(rec.got, r)
	rec.bodies = append(rec.bodies, body)
	if rec.code == http.StatusFound {
		w.Header().Set("Location", "/elsewhere")
	}
	w.WriteHeader(rec.code)
}

// newReceiver serves a Receiver of secret until the test ends.
func newReceiver(t *testing.T, secret string) (*webhook.Receiver, *httptest.Server) {
	t.Helper()
	rc, err := webhook.NewReceiver(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func newClient(t *testing.T, secret string) *webhook.Client {
	t.Helper()
	c, err := webhook.NewClient(webhook.Options{Secret: secret, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignatureVerifiesWithTheStandardLibrary(t *testing.T) {
	secret := newSecret(t)
	rec := &recorder{code: http.StatusNoContent}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	res, err := newClient(t, secret).Send(context.Background(), message(t, srv.URL+"/in", 1))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != channels.StatusDelivered || res.Provider != webhook.Provider {
		t.Errorf("result %+v, want delivered by %s", res, webhook.Provider)
	}
	r, body := rec.got[0], rec.bodies[0]
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, r.Header); err != nil {
		t.Errorf("the standard-webhooks verifier refuses the request: %v", err)
	}
	if err := wh.Verify([]byte(`{"event":"forged"}`), r.Header); err == nil {
		t.Error("the signature also verifies another body")
	}
	if got := r.Header.Get("webhook-id"); got != res.MessageID {
		t.Errorf("webhook-id %q, message id %q: want the same", got, res.MessageID)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Tenant") != "acme" {
		t.Errorf("%s with headers %v", r.Method, r.Header)
	}
	if want := `{"customer":"c-42","event":"otp_undeliverable"}`; string(body) != want {
		t.Errorf("body %s, want %s", body, want)
	}
}

func TestWebhookIDIsStableAcrossRetries(t *testing.T) {
	rec := &recorder{code: http.StatusServiceUnavailable}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, newSecret(t))
	for n := range 2 {
		if _, err := c.Send(context.Background(), message(t, srv.URL+"/in", 1)); err == nil {
			t.Fatalf("try %d: no error from a 503", n)
		}
	}
	rec.code = http.StatusOK
	res, err := c.Send(context.Background(), message(t, srv.URL+"/in", 2))
	if err != nil {
		t.Fatal(err)
	}
	first, retry, next := rec.got[0].Header.Get("webhook-id"), rec.got[1].Header.Get("webhook-id"), rec.got[2].Header.Get("webhook-id")
	if first == "" || first != retry {
		t.Errorf("webhook-id %q then %q on a retry: want the same", first, retry)
	}
	if next == first || next != res.MessageID {
		t.Errorf("attempt 2's webhook-id %q (result %q): want its own, not attempt 1's %q", next, res.MessageID, first)
	}
	if strings.Contains(first, "otp-7f3a") {
		t.Errorf("webhook-id %q holds the workflow id", first)
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		code       int
		permanent  bool
		config     bool
		retryAfter time.Duration
	}{
		{http.StatusBadRequest, true, false, 0},
		{http.StatusGone, true, false, 0},
		{http.StatusUnauthorized, true, true, 0},
		{http.StatusFound, true, false, 0}, // a redirect, not followed
		{http.StatusRequestTimeout, false, false, 0},
		{http.StatusTooManyRequests, false, false, time.Second},
		{http.StatusInternalServerError, false, false, 0},
		{http.StatusServiceUnavailable, false, false, time.Second},
	}
	rc, srv := newReceiver(t, webhook.SandboxSecret)
	c := newClient(t, webhook.SandboxSecret)
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			before := len(rc.Deliveries())
			_, err := c.Send(context.Background(), message(t, srv.URL+"/status/"+strconv.Itoa(tt.code), 1))
			se := sendError(t, err)
			if se.Permanent != tt.permanent || se.Config != tt.config || se.Unknown || se.RetryAfter != tt.retryAfter {
				t.Errorf("%+v: want permanent %v, config %v, retry after %v", se, tt.permanent, tt.config, tt.retryAfter)
			}
			if se.Code != "http_"+strconv.Itoa(tt.code) {
				t.Errorf("code %q", se.Code)
			}
			if n := len(rc.Deliveries()) - before; n != 1 {
				t.Errorf("the receiver got %d requests, want 1 (no redirect followed)", n)
			}
		})
	}
}

func TestHangIsRetried(t *testing.T) {
	rc, srv := newReceiver(t, webhook.SandboxSecret)
	_, err := newClient(t, webhook.SandboxSecret).Send(context.Background(), message(t, srv.URL+"/x/hang", 1))
	se := sendError(t, err)
	if se.Permanent || se.Unknown || se.Code != "no_answer" {
		t.Errorf("%+v: want a retryable no_answer error (the retry's webhook-id is the same)", se)
	}
	if d := rc.Deliveries(); len(d) != 1 || d[0].Status != 0 || !d[0].Verified {
		t.Errorf("deliveries %+v: want one verified, unanswered", d)
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(t, newSecret(t)).Send(context.Background(), message(t, url+"/in", 1))
	if se := sendError(t, err); se.Permanent || se.Unknown || se.Code != "network" {
		t.Errorf("%+v: want a retryable network error", se)
	}
}

func TestErrorsNameTheHostOnly(t *testing.T) {
	secret := newSecret(t)
	srv := httptest.NewServer(&recorder{code: http.StatusInternalServerError})
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, base := range []string{srv.URL, closed.URL} {
		_, err := newClient(t, secret).Send(context.Background(), message(t, base+"/private/path?token=QUERYTOKEN", 1))
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
			msg += " | " + inner.Error()
		}
		for _, leak := range []string{"QUERYTOKEN", "/private", strings.TrimPrefix(secret, "whsec_"), "c-42"} {
			if strings.Contains(msg, leak) {
				t.Errorf("error %q quotes %q", msg, leak)
			}
		}
		if !strings.Contains(msg, "127.0.0.1") {
			t.Errorf("error %q does not name the host", msg)
		}
	}
}

func TestNewSender(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	d := webhook.Driver{}
	if s, err := d.NewSender(channels.Env{Getenv: env(nil)}); s != nil || err != nil {
		t.Errorf("no secret, no sandbox: %v, %v; want the channel off (nil, nil)", s, err)
	}
	bad := "whsec_c2hvcnQ="
	if _, err := d.NewSender(channels.Env{Getenv: env(map[string]string{webhook.SecretSetting: bad})}); err == nil ||
		!strings.Contains(err.Error(), webhook.SecretSetting) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("a short secret: %v; want an error naming %s and not quoting it", err, webhook.SecretSetting)
	}
	if s, err := d.NewSender(channels.Env{Getenv: env(map[string]string{webhook.SecretSetting: newSecret(t)})}); s == nil || err != nil {
		t.Errorf("a good secret: %v, %v", s, err)
	}
}

func TestSandboxReceivesWhatDevSends(t *testing.T) {
	d := webhook.Driver{}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/webhook/", http.StripPrefix("/sandbox/webhook", d.Sandbox()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := d.NewSender(channels.Env{Getenv: func(string) string { return "" }, Sandbox: srv.URL + "/sandbox"})
	if err != nil || s == nil {
		t.Fatalf("sandbox sender: %v, %v", s, err)
	}
	// The attempt's host is not contacted: its path goes to the sandbox.
	if _, err := s.Send(context.Background(), message(t, "https://support.example.com/hooks/status/500", 1)); sendError(t, err).Code != "http_500" {
		t.Errorf("magic path through the sandbox: %v, want http_500", err)
	}
	for n, url := range []string{"https://support.example.com/hooks", "https://support.example.com"} {
		if _, err := s.Send(context.Background(), message(t, url, n+2)); err != nil {
			t.Fatalf("%s through the sandbox: %v", url, err)
		}
	}
	resp, err := http.Get(srv.URL + "/sandbox/webhook/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	list, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"path":"/hooks"`, `"verified":true`, `"status":200`, `"otp_undeliverable"`} {
		if !strings.Contains(string(list), want) {
			t.Errorf("GET the receiver: %s; want %s in it", list, want)
		}
	}
}

func TestReceiverRefusesABadSignature(t *testing.T) {
	rc, srv := newReceiver(t, webhook.SandboxSecret)
	_, err := newClient(t, newSecret(t)).Send(context.Background(), message(t, srv.URL+"/in", 1))
	if se := sendError(t, err); se.Code != "http_401" || !se.Config {
		t.Errorf("%+v: want a configuration error http_401", se)
	}
	if d := rc.Deliveries(); len(d) != 1 || d[0].Verified {
		t.Errorf("deliveries %+v: want one, not verified", d)
	}
}

func sendError(t *testing.T, err error) *channels.SendError {
	t.Helper()
	var se *channels.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v: want a *channels.SendError", err)
	}
	if se.Channel != webhook.Channel || se.Provider != webhook.Provider {
		t.Errorf("error of %s via %s", se.Channel, se.Provider)
	}
	return se
}
