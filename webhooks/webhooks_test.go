package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

const (
	appSecret   = "test_app_secret"
	verifyToken = "vt-123"
	authToken   = "12345"
	publicURL   = "https://hooks.example.com"
)

type signal struct {
	workflowID string
	update     channels.StatusUpdate
}

// fakeTemporal records signals, or fails them all with err.
type fakeTemporal struct {
	mu      sync.Mutex
	err     error
	signals []signal
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if name != "status" {
		return errors.New("unexpected signal " + name)
	}
	f.signals = append(f.signals, signal{workflowID, arg.(channels.StatusUpdate)})
	return nil
}

func newHandler(t *testing.T, temporal *fakeTemporal) (*Handler, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := New(Config{
		WhatsAppAppSecret: appSecret, WhatsAppVerifyToken: verifyToken,
		TwilioAuthToken: authToken, PublicURL: publicURL,
		Temporal: temporal, SignalName: "status", Messages: st,
	})
	return h, st
}

func metaSign(body string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// twilioSign computes X-Twilio-Signature by Twilio's documented algorithm.
func twilioSign(fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func statusBody(opaque, status, code string) string {
	var errs, data string
	if code != "" {
		errs = `,"errors":[{"code":` + code + `,"title":"Message undeliverable.","message":"Message undeliverable.","error_data":{"details":"Unable to deliver message."}}]`
	}
	if opaque != "" {
		data = `,"biz_opaque_callback_data":"` + opaque + `"`
	}
	return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.A","status":"` + status + `","timestamp":"1750030073","recipient_id":"15551234567"` + data + errs + `}]}}]}]}`
}

func postWhatsApp(h http.Handler, body, sig string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/webhooks/whatsapp", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set("X-Hub-Signature-256", sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestWhatsAppHandshake(t *testing.T) {
	h, _ := newHandler(t, &fakeTemporal{})
	tests := []struct {
		query    string
		wantCode int
		wantBody string
	}{
		{"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken, 200, "1158201444"},
		{"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong", 403, ""},
		{"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=" + verifyToken, 403, ""},
		{"hub.challenge=1", 403, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/webhooks/whatsapp?"+tt.query, nil))
		if w.Code != tt.wantCode || (tt.wantBody != "" && w.Body.String() != tt.wantBody) {
			t.Errorf("GET ?%s = %d %q, want %d %q", tt.query, w.Code, w.Body.String(), tt.wantCode, tt.wantBody)
		}
	}
}

func TestWhatsAppStatus(t *testing.T) {
	opaque := channels.Correlation{WorkflowID: "otp-1", Attempt: 1}.String()
	tests := []struct {
		name        string
		body        string
		sig         string // "" = none; "good" = computed
		temporalErr error
		wantCode    int
		wantSignals int
	}{
		{"delivered with correlation", statusBody(opaque, "delivered", ""), "good", nil, 200, 1},
		{"missing signature", statusBody(opaque, "delivered", ""), "", nil, 403, 0},
		{"wrong signature", statusBody(opaque, "delivered", ""), metaSign("other body"), nil, 403, 0},
		{"malformed json", `{"object":`, "good", nil, 400, 0},
		{"not whatsapp", `{"object":"page","entry":[]}`, "good", nil, 400, 0},
		{"unknown workflow", statusBody(opaque, "delivered", ""), "good", serviceerror.NewNotFound("workflow not found"), 200, 0},
		{"temporal down", statusBody(opaque, "delivered", ""), "good", serviceerror.NewUnavailable("connection refused"), 503, 0},
		{"temporal timeout", statusBody(opaque, "delivered", ""), "good", context.DeadlineExceeded, 503, 0},
		{"failed without correlation, unknown message", statusBody("", "failed", "131026"), "good", nil, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			temporal := &fakeTemporal{err: tt.temporalErr}
			h, _ := newHandler(t, temporal)
			sig := tt.sig
			if sig == "good" {
				sig = metaSign(tt.body)
			}
			w := postWhatsApp(h, tt.body, sig)
			if w.Code != tt.wantCode {
				t.Errorf("code = %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tt.wantCode)
			}
			if len(temporal.signals) != tt.wantSignals {
				t.Errorf("signals = %d, want %d", len(temporal.signals), tt.wantSignals)
			}
		})
	}
}

// Meta may leave biz_opaque_callback_data out of a failed status: the
// store's message index finds the journey.
func TestWhatsAppFailedStatusFoundThroughStore(t *testing.T) {
	temporal := &fakeTemporal{}
	h, st := newHandler(t, temporal)
	if err := st.RecordMessage(context.Background(), store.MessageRef{Provider: "whatsapp", MessageID: "wamid.A", WorkflowID: "otp-7", Attempt: 1, Channel: channels.WhatsApp}); err != nil {
		t.Fatal(err)
	}
	body := statusBody("", "failed", "131026")
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
		t.Fatalf("code = %d: %s", w.Code, w.Body.String())
	}
	if len(temporal.signals) != 1 {
		t.Fatalf("signals = %d, want 1", len(temporal.signals))
	}
	got := temporal.signals[0]
	want := channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.A", Status: channels.StatusFailed, Attempt: 1, ErrorCode: "131026"}
	if got.workflowID != "otp-7" || got.update.Status != want.Status || got.update.ErrorCode != want.ErrorCode || got.update.Attempt != 1 || got.update.MessageID != want.MessageID {
		t.Errorf("signal = %+v, want otp-7 %+v", got, want)
	}
}

func TestOversizedBody(t *testing.T) {
	temporal := &fakeTemporal{}
	h, _ := newHandler(t, temporal)
	body := strings.Repeat("x", DefaultMaxBodyBytes+1)
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("whatsapp code = %d, want 413", w.Code)
	}
	r := httptest.NewRequest("POST", "/webhooks/twilio/status", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("twilio code = %d, want 413", w.Code)
	}
}

func TestTwilioStatus(t *testing.T) {
	const path = "/webhooks/twilio/status?sb_wf=otp-1&sb_attempt=2"
	form := url.Values{
		"AccountSid": {"AC123"}, "ApiVersion": {"2010-04-01"}, "From": {"+15017122661"}, "To": {"+15558675310"},
		"MessageSid": {"SM123"}, "SmsSid": {"SM123"}, "MessageStatus": {"undelivered"}, "SmsStatus": {"undelivered"}, "ErrorCode": {"30003"},
	}
	good := twilioSign(publicURL+path, form)
	tests := []struct {
		name        string
		path        string
		form        url.Values
		contentType string
		sig         string
		temporalErr error
		wantCode    int
		wantSignals int
	}{
		{"undelivered", path, form, "application/x-www-form-urlencoded", good, nil, 200, 1},
		{"no signature", path, form, "application/x-www-form-urlencoded", "", nil, 403, 0},
		{"signed for another url", "/webhooks/twilio/status?sb_wf=otp-2&sb_attempt=2", form, "application/x-www-form-urlencoded", good, nil, 403, 0},
		{"wrong content type", path, form, "application/json", good, nil, 400, 0},
		{"missing status", path, url.Values{"MessageSid": {"SM1"}}, "application/x-www-form-urlencoded", twilioSign(publicURL+path, url.Values{"MessageSid": {"SM1"}}), nil, 400, 0},
		{"unknown workflow", path, form, "application/x-www-form-urlencoded", good, serviceerror.NewNotFound("workflow execution already completed"), 200, 0},
		{"temporal down", path, form, "application/x-www-form-urlencoded", good, serviceerror.NewUnavailable("down"), 503, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			temporal := &fakeTemporal{err: tt.temporalErr}
			h, _ := newHandler(t, temporal)
			r := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.form.Encode()))
			r.Header.Set("Content-Type", tt.contentType)
			if tt.sig != "" {
				r.Header.Set("X-Twilio-Signature", tt.sig)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Errorf("code = %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tt.wantCode)
			}
			if len(temporal.signals) != tt.wantSignals {
				t.Fatalf("signals = %d, want %d", len(temporal.signals), tt.wantSignals)
			}
			if tt.wantSignals == 1 {
				s := temporal.signals[0]
				if s.workflowID != "otp-1" || s.update.Status != channels.StatusFailed || s.update.ErrorCode != "30003" || s.update.Attempt != 2 || s.update.MessageID != "SM123" {
					t.Errorf("signal = %+v", s)
				}
			}
		})
	}
}

func TestUnconfiguredProviderHasNoRoute(t *testing.T) {
	h := New(Config{TwilioAuthToken: authToken, PublicURL: publicURL, Temporal: &fakeTemporal{}, SignalName: "status"})
	body := statusBody("x", "delivered", "")
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("code = %d, want 404", w.Code)
	}
}

// A failed status may beat the send's own answer, and Meta may leave its
// correlation out: a recent status for a message not yet known is refused
// with 503 (Meta retries), found when the send records it meanwhile, and an
// old one is dropped.
func TestStatusForAMessageNotYetKnown(t *testing.T) {
	body := statusBody("", "failed", "131026") // timestamp 1750030073
	sent := time.Unix(1750030073, 0)
	tests := []struct {
		name        string
		now         time.Time
		recordAfter time.Duration // 0: never
		wantCode    int
		wantSignals int
	}{
		{"recent and never recorded", sent.Add(5 * time.Second), 0, 503, 0},
		{"recent and recorded meanwhile", sent.Add(time.Second), 300 * time.Millisecond, 200, 1},
		{"old", sent.Add(time.Hour), 0, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			temporal := &fakeTemporal{}
			st, err := sqlite.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			h := New(Config{WhatsAppAppSecret: appSecret, Temporal: temporal, SignalName: "status", Messages: st,
				Now: func() time.Time { return tt.now }})
			if tt.recordAfter > 0 {
				time.AfterFunc(tt.recordAfter, func() {
					st.RecordMessage(context.Background(), store.MessageRef{Provider: "whatsapp", MessageID: "wamid.A", WorkflowID: "otp-1", Attempt: 1, Channel: channels.WhatsApp})
				})
			}
			w := postWhatsApp(h, body, metaSign(body))
			if w.Code != tt.wantCode || len(temporal.signals) != tt.wantSignals {
				t.Errorf("code %d, signals %d; want %d, %d (%s)", w.Code, len(temporal.signals), tt.wantCode, tt.wantSignals, w.Body.String())
			}
		})
	}
}

// With a Recorder, the statuses a journey does not wait for are recorded in
// the event log instead of signalled; the awaited status, failures and
// every status of a message whose await is unknown are signalled, in any
// order; a status for an ended journey is recorded, not dropped.
func TestStatusesRecordedInstead(t *testing.T) {
	ended := serviceerror.NewNotFound("workflow execution already completed")
	tests := []struct {
		name         string
		await        channels.Status
		statuses     []string
		temporalErr  error
		wantSignals  []channels.Status
		wantRecorded []store.EventStatus
	}{
		{"in order", channels.StatusDelivered, []string{"sent", "delivered", "read"},
			nil, []channels.Status{"delivered"}, []store.EventStatus{"sent", "read"}},
		// The provider's retry of read comes after read reached the journey: recorded.
		{"read first", channels.StatusDelivered, []string{"read", "delivered", "sent"},
			nil, []channels.Status{"read", "delivered"}, []store.EventStatus{"read", "sent"}},
		{"failed", channels.StatusDelivered, []string{"sent", "failed"},
			nil, []channels.Status{"failed"}, []store.EventStatus{"sent"}},
		{"awaits read", channels.StatusRead, []string{"sent", "delivered", "read"},
			nil, []channels.Status{"read"}, []store.EventStatus{"sent", "delivered"}},
		{"await unknown", "", []string{"sent", "delivered", "read"},
			nil, []channels.Status{"sent", "delivered", "read"}, nil},
		{"journey ended", channels.StatusDelivered, []string{"delivered", "read"},
			ended, nil, []store.EventStatus{"delivered", "read"}},
	}
	opaque := channels.Correlation{WorkflowID: "otp-7", Attempt: 1}.String()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			temporal := &fakeTemporal{err: tt.temporalErr}
			h, st := newHandler(t, temporal)
			h.cfg.Recorder = &activities.Activities{Messages: st}
			ref := store.MessageRef{Provider: "whatsapp", MessageID: "wamid.A", WorkflowID: "otp-7", Attempt: 1,
				Channel: channels.WhatsApp, Journey: "otp", Step: "code", Template: "otp_code", ContactKey: "k1", Await: tt.await}
			if err := st.RecordMessage(ctx, ref); err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.statuses {
				// Each status twice: with its correlation, then as a retry without.
				for _, body := range []string{statusBody(opaque, s, ""), statusBody("", s, "")} {
					if s == "failed" {
						body = statusBody(opaque, s, "131026")
					}
					if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
						t.Fatalf("status %d (%s): code %d: %s", i, s, w.Code, w.Body.String())
					}
				}
			}
			var signalled []channels.Status
			for _, sg := range temporal.signals {
				if sg.workflowID != "otp-7" {
					t.Errorf("signal to %s, want otp-7", sg.workflowID)
				}
				if n := len(signalled); n == 0 || signalled[n-1] != sg.update.Status {
					signalled = append(signalled, sg.update.Status)
				}
			}
			if !slices.Equal(signalled, tt.wantSignals) {
				t.Errorf("signalled %v, want %v", signalled, tt.wantSignals)
			}
			evs, err := st.Events(ctx, store.EventFilter{WorkflowID: "otp-7"})
			if err != nil {
				t.Fatal(err)
			}
			var recorded []store.EventStatus
			for _, e := range evs {
				recorded = append(recorded, e.Status)
				if e.Journey != "otp" || e.Step != "code" || e.Template != "otp_code" || e.ContactKey != "k1" || e.Channel != channels.WhatsApp || e.Attempt != 1 {
					t.Errorf("recorded %+v, want the message's journey, step, template, contact, channel and attempt", e)
				}
			}
			if !slices.Equal(recorded, tt.wantRecorded) {
				t.Errorf("recorded %v, want %v", recorded, tt.wantRecorded)
			}
		})
	}
}
