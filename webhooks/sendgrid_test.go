package webhooks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// sendGridKey is a webhook signing key pair for the tests.
type sendGridKey struct {
	priv *ecdsa.PrivateKey
	pub  string // base64 DER, as SendGrid shows it
}

func newSendGridKey(t *testing.T) sendGridKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return sendGridKey{priv, base64.StdEncoding.EncodeToString(der)}
}

func (k sendGridKey) sign(t *testing.T, ts, body string) string {
	t.Helper()
	h := sha256.Sum256([]byte(ts + body))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func newSendGridHandler(t *testing.T, temporal *fakeTemporal, key sendGridKey, hook func(context.Context, email.Event) error) (*Handler, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(Config{
		SendGridPublicKey: key.pub, SendGridEvent: hook,
		Temporal: temporal, SignalName: "status", Messages: st,
	}), st
}

func postSendGrid(h http.Handler, body, sig, ts string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/webhooks/sendgrid", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set(email.SignatureHeader, sig)
	}
	if ts != "" {
		r.Header.Set(email.TimestampHeader, ts)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const sgCorr = `,"sb_wf":"otp-9","sb_attempt":"3"`

func sgEvent(kind, extra string) string {
	return `{"email":"ana@example.com","timestamp":1777636800,"event":"` + kind + `","sg_event_id":"ev-` + kind +
		`","sg_message_id":"XBg2anf2TqCy6WXKQFhieQ.filter0905p1mdw1-4434-59E0C6FF-3.0"` + extra + `}`
}

func TestSendGridEvents(t *testing.T) {
	key := newSendGridKey(t)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	batch := "[" + sgEvent("processed", sgCorr) + "," + sgEvent("deferred", sgCorr) + "," +
		sgEvent("delivered", sgCorr) + "," + sgEvent("open", sgCorr) + "," + sgEvent("spamreport", sgCorr) + "]\r\n"
	bounce := "[" + sgEvent("bounce", `,"reason":"550 5.1.1 unknown user","status":"5.1.1","type":"bounce"`+sgCorr) + "]"
	tests := []struct {
		name       string
		body       string
		sig        string // "good": sign body with ts; "other": a valid signature of another body
		ts         string
		temporal   error
		wantCode   int
		wantStatus []channels.Status
	}{
		{"batch", batch, "good", now, nil, 200, []channels.Status{channels.StatusAccepted, channels.StatusDelivered, channels.StatusRead}},
		{"bounce", bounce, "good", now, nil, 200, []channels.Status{channels.StatusFailed}},
		{"bad signature", batch, "other", now, nil, 403, nil},
		{"stale timestamp", batch, "good", stale, nil, 403, nil},
		{"missing signature", batch, "", now, nil, 403, nil},
		{"missing timestamp", batch, "good", "", nil, 403, nil},
		{"malformed", `{"event":"delivered"}`, "good", now, nil, 400, nil},
		{"unknown workflow", bounce, "good", now, serviceerror.NewNotFound("workflow not found"), 200, nil},
		{"temporal down", bounce, "good", now, serviceerror.NewUnavailable("connection refused"), 503, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTemporal{err: tt.temporal}
			h, _ := newSendGridHandler(t, ft, key, nil)
			sig := ""
			switch tt.sig {
			case "good":
				sig = key.sign(t, tt.ts, tt.body)
			case "other":
				sig = key.sign(t, tt.ts, "[]")
			}
			w := postSendGrid(h, tt.body, sig, tt.ts)
			if w.Code != tt.wantCode {
				t.Fatalf("code = %d (%s), want %d", w.Code, w.Body, tt.wantCode)
			}
			if len(ft.signals) != len(tt.wantStatus) {
				t.Fatalf("signals = %+v, want statuses %v", ft.signals, tt.wantStatus)
			}
			for i, s := range ft.signals {
				u := s.update
				if s.workflowID != "otp-9" || u.Status != tt.wantStatus[i] || u.Attempt != 3 ||
					u.Provider != "sendgrid" || u.MessageID != "XBg2anf2TqCy6WXKQFhieQ" {
					t.Errorf("signal %d = %+v", i, s)
				}
			}
			if tt.name == "bounce" {
				if u := ft.signals[0].update; u.ErrorCode != "bounce" || u.ErrorReason != "5.1.1 550 5.1.1 unknown user" {
					t.Errorf("bounce update = %+v", u)
				}
			}
		})
	}
}

// An event without custom args finds its journey through the message index.
func TestSendGridEventFoundThroughStore(t *testing.T) {
	key := newSendGridKey(t)
	ft := &fakeTemporal{}
	h, st := newSendGridHandler(t, ft, key, nil)
	if err := st.RecordMessage(context.Background(), store.MessageRef{Provider: "sendgrid", MessageID: "XBg2anf2TqCy6WXKQFhieQ", WorkflowID: "otp-8", Attempt: 2, Channel: channels.Email}); err != nil {
		t.Fatal(err)
	}
	body := "[" + sgEvent("dropped", `,"reason":"Bounced Address","status":"5.0.0"`) + "]"
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if w := postSendGrid(h, body, key.sign(t, ts, body), ts); w.Code != 200 {
		t.Fatalf("code = %d (%s)", w.Code, w.Body)
	}
	if len(ft.signals) != 1 || ft.signals[0].workflowID != "otp-8" || ft.signals[0].update.Attempt != 2 ||
		ft.signals[0].update.Status != channels.StatusFailed || ft.signals[0].update.ErrorCode != "dropped" {
		t.Fatalf("signals = %+v", ft.signals)
	}
}

// Events that report no status go to the hook; its failure asks SendGrid
// to retry.
func TestSendGridEventHook(t *testing.T) {
	key := newSendGridKey(t)
	body := "[" + sgEvent("deferred", sgCorr) + "," + sgEvent("unsubscribe", sgCorr) + "," + sgEvent("group_unsubscribe", `,"asm_group_id":10`) + "]"
	ts := strconv.FormatInt(time.Now().Unix(), 10)

	var got []email.Event
	h, _ := newSendGridHandler(t, &fakeTemporal{}, key, func(_ context.Context, ev email.Event) error {
		got = append(got, ev)
		return nil
	})
	if w := postSendGrid(h, body, key.sign(t, ts, body), ts); w.Code != 200 {
		t.Fatalf("code = %d (%s)", w.Code, w.Body)
	}
	if len(got) != 3 || got[0].Kind.Suppression() || !got[1].Kind.Suppression() || got[2].ASMGroupID != 10 {
		t.Errorf("hook got %+v", got)
	}

	failing, _ := newSendGridHandler(t, &fakeTemporal{}, key, func(context.Context, email.Event) error {
		return errors.New("store down")
	})
	if w := postSendGrid(failing, body, key.sign(t, ts, body), ts); w.Code != 503 {
		t.Errorf("code with a failing hook = %d, want 503", w.Code)
	}
}

func TestSendGridOversizedAndUnconfigured(t *testing.T) {
	key := newSendGridKey(t)
	h, _ := newSendGridHandler(t, &fakeTemporal{}, key, nil)
	if w := postSendGrid(h, strings.Repeat("x", DefaultMaxBodyBytes+1), "", ""); w.Code != 413 {
		t.Errorf("oversized: code = %d, want 413", w.Code)
	}
	none, _ := newSendGridHandler(t, &fakeTemporal{}, sendGridKey{}, nil)
	if w := postSendGrid(none, "[]", "", ""); w.Code != 404 {
		t.Errorf("unconfigured: code = %d, want 404", w.Code)
	}
}

// Spam reports, unsubscribes and hard bounces suppress email for the
// address in the store; a soft ("blocked") bounce does not.
func TestSendGridSuppressions(t *testing.T) {
	key := newSendGridKey(t)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	tests := []struct {
		event string
		want  store.SuppressionReason // "" = none
	}{
		{sgEvent("spamreport", ""), store.ReasonSpamReport},
		{sgEvent("unsubscribe", ""), store.ReasonUnsubscribe},
		{sgEvent("bounce", `,"type":"bounce","reason":"550 unknown user"`+sgCorr), store.ReasonHardBounce},
		{sgEvent("bounce", `,"type":"blocked","reason":"try later"`+sgCorr), ""},
	}
	for _, tt := range tests {
		h, st := newSendGridHandler(t, &fakeTemporal{}, key, nil)
		body := "[" + tt.event + "]"
		if w := postSendGrid(h, body, key.sign(t, now, body), now); w.Code != 200 {
			t.Fatalf("%s: code %d %s", tt.event, w.Code, w.Body)
		}
		ck := journeys.ContactKey(nil, "ana@example.com")
		sups, err := st.Suppressions(context.Background(), ck)
		if err != nil {
			t.Fatal(err)
		}
		var got store.SuppressionReason
		for _, s := range sups {
			if s.Channel == channels.Email {
				got = s.Reason
			}
		}
		if got != tt.want {
			t.Errorf("%s: suppression %q, want %q", tt.event, got, tt.want)
		}
	}
}
