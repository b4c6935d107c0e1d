package webhooks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/store"
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

// writeCountingStore counts the suppressions a handler writes.
type writeCountingStore struct {
	Store
	writes atomic.Int64
}

func (s *writeCountingStore) Suppress(ctx context.Context, sup store.Suppression) error {
	s.writes.Add(1)
	return s.Store.Suppress(ctx, sup)
}

func (s *writeCountingStore) Unsuppress(ctx context.Context, contactKey string, ch channels.Channel, reason store.SuppressionReason) error {
	s.writes.Add(1)
	return s.Store.Unsuppress(ctx, contactKey, ch, reason)
}

// FuzzSendGridWebhook posts arbitrary Event Webhook bodies, signed with a
// test key or with a signature of other bytes, under a timestamp age
// seconds old (or rawTimestamp as sent, when not empty), with any content
// type: nothing panics; the answer is 200, 400, 403, 413 or 503, with a
// reason when it is not 200; a body signed for other bytes, a timestamp
// that is not Unix seconds or is more than 5 minutes off is refused with
// 403, and a fresh valid signature is not; a refused or malformed batch
// signals nothing, calls no hook and suppresses nobody; and every signal
// names a journey and a status Switchback knows.
func FuzzSendGridWebhook(f *testing.F) {
	corr := `,"sb_wf":"otp-1","sb_attempt":"1"`
	f.Add("["+sgEvent("delivered", corr)+"]", true, int64(0), "", "application/json")
	f.Add("["+sgEvent("processed", corr)+","+sgEvent("open", corr)+","+sgEvent("spamreport", "")+"]\r\n", true, int64(10*60), "", "application/json")
	f.Add("["+sgEvent("bounce", `,"type":"bounce","reason":"550 5.1.1 unknown user","status":"5.1.1"`+corr)+"]", false, int64(0), "", "application/json")
	f.Add("["+sgEvent("dropped", `,"reason":"Bounced Address","sb_wf":"otp-\u202e'; DROP TABLE message_refs;--","sb_attempt":"1"`)+"]", true, int64(-299), "", "text/plain")
	f.Add(`[{"event":"delivered","email":"","sb_wf":"x","sb_attempt":"-1","timestamp":"1e3","attempt":{}}]`, true, int64(0), "", "")
	f.Add(`[{"event":"unsubscribe","email":"ANA@Example.com ","category":[1,2]}]`, true, int64(0), "+1700000000", "application/json")
	f.Add(`{"event":"delivered"}`, true, int64(0), "", "application/json")
	f.Add(strings.Repeat("[", 10000), true, int64(0), "", "application/json")
	f.Add("", true, int64(0), "", "")
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	key := sendGridKey{priv, base64.StdEncoding.EncodeToString(der)}
	sqlSt, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { sqlSt.Close() })
	st := &writeCountingStore{Store: sqlSt}
	temporal := &fakeTemporal{}
	var hooked atomic.Int64
	// The handler's clock is far ahead, so that no status is recent enough
	// to wait for its message id to be recorded (a second per event); the
	// signature's clock is the real one.
	future := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(Config{SendGridPublicKey: key.pub, Temporal: temporal, SignalName: "status", Messages: st,
		SignalTimeout: 200 * time.Millisecond, Now: func() time.Time { return future },
		SendGridEvent: func(context.Context, email.Event) error { hooked.Add(1); return nil }})
	const skew = 5 * 60 // seconds
	f.Fuzz(func(t *testing.T, body string, signed bool, age int64, rawTimestamp, contentType string) {
		temporal.reset()
		st.writes.Store(0)
		hooked.Store(0)
		now := time.Now().Unix()
		ts := strconv.FormatInt(now-age, 10)
		if rawTimestamp != "" {
			ts = rawTimestamp
		}
		sig := key.sign(t, ts, body+"x") // a valid signature, of other bytes
		if signed {
			sig = key.sign(t, ts, body)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks/sendgrid", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(email.SignatureHeader, sig)
		req.Header.Set(email.TimestampHeader, ts)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
			if strings.TrimSpace(rec.Body.String()) == "" {
				t.Fatalf("%d without a reason", rec.Code)
			}
		default:
			t.Fatalf("status %d (%s); want 200, 400, 403, 413 or 503", rec.Code, rec.Body.String())
		}
		secs, err := strconv.ParseInt(ts, 10, 64)
		switch {
		case !signed && rec.Code != http.StatusForbidden:
			t.Fatalf("a signature of other bytes answered %d, want 403", rec.Code)
		case signed && err != nil && rec.Code != http.StatusForbidden:
			t.Fatalf("timestamp %q answered %d, want 403", ts, rec.Code)
		case signed && err == nil && (secs < now-skew-2 || secs > now+skew+2) && rec.Code != http.StatusForbidden:
			t.Fatalf("timestamp %d s off answered %d, want 403 (a replay)", now-secs, rec.Code)
		case signed && err == nil && secs >= now-skew+2 && secs <= now+skew-2 && rec.Code == http.StatusForbidden:
			t.Fatalf("a fresh valid signature answered 403: %s", rec.Body.String())
		}

		temporal.mu.Lock()
		defer temporal.mu.Unlock()
		// 503 asks SendGrid to retry the whole batch: the events before
		// the one that failed may have been signalled (duplicates are
		// harmless). Any other refusal must change nothing.
		if rec.Code != http.StatusOK && rec.Code != http.StatusServiceUnavailable {
			if n := len(temporal.signals); n > 0 {
				t.Fatalf("answered %d but signalled %d statuses", rec.Code, n)
			}
			if n := hooked.Load(); n > 0 {
				t.Fatalf("answered %d but passed %d events to the hook", rec.Code, n)
			}
			if n := st.writes.Load(); n > 0 {
				t.Fatalf("answered %d but wrote %d suppressions", rec.Code, n)
			}
		}
		for _, s := range temporal.signals {
			u := s.update
			if s.workflowID == "" || !u.Status.Valid() || u.Provider != email.Provider || (u.MessageID == "" && u.Attempt <= 0) {
				t.Fatalf("unusable signal %+v", s)
			}
		}
	})
}
