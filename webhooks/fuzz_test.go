package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/store/sqlite"
)

// checkRejection fails t unless the answer is one a provider can act on:
// 200, or a 4xx with a message saying why.
func checkRejection(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch rec.Code {
	case http.StatusOK:
		return
	case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		if strings.TrimSpace(rec.Body.String()) == "" {
			t.Fatalf("%d without a reason", rec.Code)
		}
	default:
		t.Fatalf("status %d (%s); want 200, 400, 403, 413 or 415", rec.Code, rec.Body.String())
	}
}

// FuzzWhatsAppWebhook posts arbitrary bodies, signed or not, with any
// content type: nothing panics, an unsigned body is refused with 403 and
// signals nothing, a rejected body signals nothing, and every signal
// carries a status Switchback knows.
func FuzzWhatsAppWebhook(f *testing.F) {
	f.Add(statusBody("sb1:1:otp-abc", "delivered", ""), true, "application/json")
	f.Add(statusBody("", "failed", "131026"), true, "application/json")
	f.Add(statusBody("sb1:1:otp-\u202e'; DROP TABLE message_refs;--", "read", ""), true, "text/plain")
	f.Add(statusBody("sb1:1:otp-abc", "delivered", ""), false, "application/json")
	f.Add(`{"object":"page","entry":[]}`, true, "application/json")
	f.Add(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"","status":"sent"}]}}]}]}`, true, "")
	f.Add(strings.Repeat("[", 10000), true, "application/json")
	f.Add("", true, "application/x-www-form-urlencoded")
	h, temporal := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body string, signed bool, contentType string) {
		temporal.reset()
		sig := "sha256=" + strings.Repeat("0", 64)
		if signed {
			sig = metaSign(body)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkRejection(t, rec)
		if !signed && rec.Code != http.StatusForbidden && metaSign(body) != sig {
			t.Fatalf("unsigned body answered %d, want 403", rec.Code)
		}
		checkSignals(t, temporal, rec.Code)
	})
}

// FuzzTwilioWebhook posts arbitrary status callbacks, signed or not, with
// any query and content type.
func FuzzTwilioWebhook(f *testing.F) {
	f.Add("sb_wf=otp-1&sb_attempt=1", "MessageSid=SM1&MessageStatus=delivered", true, "application/x-www-form-urlencoded")
	f.Add("sb_wf=otp-1&sb_attempt=1", "MessageSid=SM1&MessageStatus=delivered", false, "application/x-www-form-urlencoded")
	f.Add("", "MessageSid=SM2&MessageStatus=undelivered&ErrorCode=30003", true, "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("sb_wf=%00%E2%80%AE&sb_attempt=1", "MessageSid=SM3&MessageStatus=sent", true, "application/json")
	f.Add("sb_wf=x&sb_attempt=1", "MessageSid=SM4&MessageStatus=%7B%7B.code%7D%7D", true, "application/x-www-form-urlencoded")
	f.Add("a=%zz", "%zz", true, "")
	h, temporal := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, rawQuery, body string, signed bool, contentType string) {
		temporal.reset()
		target := "/webhooks/twilio/status"
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || strings.ContainsAny(rawQuery, " #\r\n\t") {
			return // not a request line a server could receive
		}
		req := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		sig := "bm90IGEgc2lnbmF0dXJl"
		if form, err := url.ParseQuery(body); signed && err == nil {
			sig = twilioSign(publicURL+u.RequestURI(), form)
		}
		req.Header.Set("X-Twilio-Signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkRejection(t, rec)
		if !signed && rec.Code != http.StatusForbidden {
			t.Fatalf("unsigned callback answered %d, want 403", rec.Code)
		}
		checkSignals(t, temporal, rec.Code)
	})
}

// fuzzHandler returns one handler, with its store and fake Temporal, for
// all the inputs of a fuzz target: opening a store per input is too slow to
// fuzz. Reset the fake's signals per input.
func fuzzHandler(f *testing.F) (*Handler, *fakeTemporal) {
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	temporal := &fakeTemporal{}
	return New(Config{WhatsAppAppSecret: appSecret, TwilioAuthToken: authToken, PublicURL: publicURL,
		Temporal: temporal, SignalName: "status", Messages: st}), temporal
}

// reset forgets the signals recorded so far.
func (f *fakeTemporal) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = nil
}

// checkSignals fails t if a rejected request signalled anything or a
// signal carries an unusable status.
func checkSignals(t *testing.T, temporal *fakeTemporal, code int) {
	t.Helper()
	temporal.mu.Lock()
	defer temporal.mu.Unlock()
	if code != http.StatusOK && len(temporal.signals) > 0 {
		t.Fatalf("answered %d but signalled %d statuses", code, len(temporal.signals))
	}
	for _, s := range temporal.signals {
		if s.workflowID == "" || s.update.MessageID == "" || !s.update.Status.Valid() {
			t.Fatalf("unusable signal %+v", s)
		}
	}
}

// TestHostileRequests covers what the fuzzers reach only by luck: an
// oversize body for each provider, a body that is not JSON under a valid
// signature, and a wrong content type for Twilio.
func TestHostileRequests(t *testing.T) {
	h, _ := newHandler(t, &fakeTemporal{})
	big := strings.Repeat("a", DefaultMaxBodyBytes+1)
	tests := []struct {
		name, path, body, contentType string
		sign                          func(string) string
		want                          int
	}{
		{"whatsapp oversize", "/webhooks/whatsapp", big, "application/json", metaSign, http.StatusRequestEntityTooLarge},
		{"twilio oversize", "/webhooks/twilio/status", big, "application/x-www-form-urlencoded", func(string) string { return "x" }, http.StatusRequestEntityTooLarge},
		{"whatsapp not json", "/webhooks/whatsapp", "<xml/>", "application/xml", metaSign, http.StatusBadRequest},
		{"whatsapp bad signature", "/webhooks/whatsapp", statusBody("sb1:1:a", "sent", ""), "application/json", func(string) string { return "sha256=xyz" }, http.StatusForbidden},
		{"twilio json body", "/webhooks/twilio/status", `{"MessageSid":"SM1"}`, "application/json", func(b string) string {
			form, _ := url.ParseQuery(b)
			return twilioSign(publicURL+"/webhooks/twilio/status", form)
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("X-Hub-Signature-256", tt.sign(tt.body))
			req.Header.Set("X-Twilio-Signature", tt.sign(tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want || strings.TrimSpace(rec.Body.String()) == "" {
				t.Errorf("answered %d %q, want %d with a reason", rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}
