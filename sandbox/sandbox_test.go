package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken   = "EAAJBtesttoken"
	testSecret  = "test_app_secret"
	testPhoneID = "106540352242922"
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testAuth    = "authtoken0123456789"
	testOpaque  = "sb1:1:otp-42"
	statusDelay = 5 * time.Millisecond
)

// event is one status callback as the receiver saw it.
type event struct {
	provider  string
	id        string
	status    string
	code      string // error code, "" if none
	opaque    string // biz_opaque_callback_data, WhatsApp only
	hasOpaque bool
	at        time.Time
}

// receiver stands in for Switchback's webhooks: it checks every callback's
// signature and shape and records the statuses.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	events   []event
	requests []recorded // every request, including failed ones
	fail     int        // answer 503 to this many more requests
	failAll  bool       // answer 500 to every request
}

type recorded struct {
	path, body, signature string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whatsapp", rc.whatsapp)
	mux.HandleFunc("POST /twilio/status", rc.twilio)
	rc.srv = httptest.NewServer(mux)
	t.Cleanup(rc.srv.Close)
	return rc
}

// admit records the request and reports whether to answer it with success.
func (rc *receiver) admit(w http.ResponseWriter, r *http.Request, body []byte, sig string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests = append(rc.requests, recorded{r.URL.Path, string(body), sig})
	switch {
	case rc.failAll:
		http.Error(w, "boom", http.StatusInternalServerError)
		return false
	case rc.fail > 0:
		rc.fail--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return false
	}
	return true
}

func (rc *receiver) record(e event) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e.at = time.Now()
	rc.events = append(rc.events, e)
}

func (rc *receiver) whatsapp(w http.ResponseWriter, r *http.Request) {
	t := rc.t
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("whatsapp callback: read body: %v", err)
		return
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	want := mac.Sum(nil)
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil || !strings.HasPrefix(sig, "sha256=") || !hmac.Equal(got, want) {
		t.Errorf("whatsapp callback: bad signature %q", sig)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("whatsapp callback: Content-Type %q", ct)
	}
	if !rc.admit(w, r, body, sig) {
		return
	}
	var p struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					MessagingProduct string `json:"messaging_product"`
					Metadata         struct {
						DisplayPhoneNumber string `json:"display_phone_number"`
						PhoneNumberID      string `json:"phone_number_id"`
					} `json:"metadata"`
					Statuses []struct {
						ID          string  `json:"id"`
						Status      string  `json:"status"`
						Timestamp   string  `json:"timestamp"`
						RecipientID string  `json:"recipient_id"`
						Opaque      *string `json:"biz_opaque_callback_data"`
						Pricing     *struct {
							PricingModel string `json:"pricing_model"`
							Category     string `json:"category"`
						} `json:"pricing"`
						Errors []struct {
							Code      int    `json:"code"`
							Title     string `json:"title"`
							Message   string `json:"message"`
							ErrorData struct {
								Details string `json:"details"`
							} `json:"error_data"`
							Href string `json:"href"`
						} `json:"errors"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("whatsapp callback: decode %s: %v", body, err)
		return
	}
	if p.Object != "whatsapp_business_account" || len(p.Entry) != 1 || p.Entry[0].ID != DefaultWABAID ||
		len(p.Entry[0].Changes) != 1 {
		t.Errorf("whatsapp callback: bad envelope %s", body)
		return
	}
	if f := p.Entry[0].Changes[0].Field; f == "message_template_status_update" || f == "phone_number_quality_update" {
		return // an account change (TestAccountChanges checks them), not a status
	}
	if p.Entry[0].Changes[0].Field != "messages" {
		t.Errorf("whatsapp callback: bad envelope %s", body)
		return
	}
	v := p.Entry[0].Changes[0].Value
	if v.MessagingProduct != "whatsapp" || v.Metadata.PhoneNumberID != testPhoneID ||
		v.Metadata.DisplayPhoneNumber != DefaultDisplayPhone {
		t.Errorf("whatsapp callback: bad value %s", body)
	}
	for _, st := range v.Statuses {
		if _, err := strconv.ParseInt(st.Timestamp, 10, 64); err != nil {
			t.Errorf("whatsapp callback: timestamp %q is not unix seconds", st.Timestamp)
		}
		if st.RecipientID == "" || strings.Trim(st.RecipientID, "0123456789") != "" {
			t.Errorf("whatsapp callback: recipient_id %q is not digits", st.RecipientID)
		}
		e := event{provider: ProviderWhatsApp, id: st.ID, status: st.Status}
		if st.Opaque != nil {
			e.opaque, e.hasOpaque = *st.Opaque, true
		}
		if st.Status == "failed" {
			if len(st.Errors) != 1 || st.Errors[0].Title == "" || st.Errors[0].Message == "" ||
				st.Errors[0].ErrorData.Details == "" || st.Errors[0].Href == "" {
				t.Errorf("whatsapp callback: failed status without a full error: %s", body)
			}
			if st.Pricing != nil {
				t.Errorf("whatsapp callback: failed status with pricing: %s", body)
			}
		} else if st.Pricing == nil || st.Pricing.PricingModel != "PMP" {
			t.Errorf("whatsapp callback: %s status without PMP pricing: %s", st.Status, body)
		}
		if len(st.Errors) > 0 {
			e.code = strconv.Itoa(st.Errors[0].Code)
		}
		rc.record(e)
	}
}

// twilioSig computes X-Twilio-Signature the way twilio-go's RequestValidator
// does: first value of each key, keys sorted.
func twilioSig(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (rc *receiver) twilio(w http.ResponseWriter, r *http.Request) {
	t := rc.t
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("twilio callback: read body: %v", err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("twilio callback: parse body %q: %v", body, err)
		return
	}
	sig := r.Header.Get("X-Twilio-Signature")
	fullURL := "http://" + r.Host + r.URL.RequestURI()
	if want := twilioSig(testAuth, fullURL, form); !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("twilio callback: signature %q, want %q for %s", sig, want, fullURL)
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("twilio callback: Content-Type %q", ct)
	}
	if !rc.admit(w, r, body, sig) {
		return
	}
	for _, k := range []string{"MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "AccountSid", "From", "To"} {
		if form.Get(k) == "" {
			t.Errorf("twilio callback: missing %s in %q", k, body)
		}
	}
	if form.Get("ApiVersion") != "2010-04-01" || form.Get("AccountSid") != testSID ||
		form.Get("SmsSid") != form.Get("MessageSid") || form.Get("SmsStatus") != form.Get("MessageStatus") {
		t.Errorf("twilio callback: bad fields %q", body)
	}
	if got := r.URL.Query().Get("wf"); got != "otp-42" {
		t.Errorf("twilio callback: query wf = %q, want the StatusCallback URL's", got)
	}
	rc.record(event{provider: ProviderTwilio, id: form.Get("MessageSid"), status: form.Get("MessageStatus"), code: form.Get("ErrorCode")})
}

// wait returns the events once there are at least n, or fails the test.
func (rc *receiver) wait(n int, timeout time.Duration) []event {
	rc.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rc.mu.Lock()
		got := slices.Clone(rc.events)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("got %d status callbacks, want %d: %+v", len(got), n, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (rc *receiver) snapshot() ([]event, []recorded) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.events), slices.Clone(rc.requests)
}

func (rc *receiver) statusCallback() string { return rc.srv.URL + "/twilio/status?wf=otp-42&attempt=1" }

// newSandbox starts a Sandbox posting to rc and serves it.
func newSandbox(t *testing.T, rc *receiver, edit func(*Config)) (*Sandbox, string) {
	t.Helper()
	cfg := Config{
		WhatsAppWebhookURL: rc.srv.URL + "/whatsapp",
		AppSecret:          testSecret,
		AccessToken:        testToken,
		PhoneNumberID:      testPhoneID,
		TwilioAccountSID:   testSID,
		TwilioAuthToken:    testAuth,
		StatusDelay:        statusDelay,
		LateDelay:          150 * time.Millisecond,
		CallbackBackoff:    5 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	sb, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		sb.Close()
		srv.Close()
	})
	return sb, srv.URL
}

func templateBody(to string) map[string]any {
	return map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                to,
		"type":              "template",
		"template": map[string]any{
			"name":     "otp_code",
			"language": map[string]any{"code": "en_US"},
			"components": []any{
				map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "123456"}}},
				map[string]any{"type": "button", "sub_type": "url", "index": "0",
					"parameters": []any{map[string]any{"type": "text", "text": "123456"}}},
			},
		},
		"biz_opaque_callback_data": testOpaque,
	}
}

// postWhatsApp sends body (JSON-encoded unless it is a string) to the Graph
// lookalike and returns the status and the decoded answer.
func postWhatsApp(t *testing.T, base, token, phoneID string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v23.0/"+phoneID+"/messages", strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// postSMS creates a Twilio message and returns the status and decoded answer.
func postSMS(t *testing.T, base, user, pass, pathSID string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/2010-04-01/Accounts/"+pathSID+"/Messages.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, m
}

// path digs into decoded JSON: path(m, "error", "code").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func smsForm(to, callback string) url.Values {
	f := url.Values{"To": {to}, "From": {"+15017122661"}, "Body": {"Your code is 123456"}}
	if callback != "" {
		f.Set("StatusCallback", callback)
	}
	return f
}

// statusesOf returns "status" or "status:code" for each event of provider.
func statusesOf(events []event, provider string) []string {
	var out []string
	for _, e := range events {
		if e.provider != provider {
			continue
		}
		s := e.status
		if e.code != "" {
			s += ":" + e.code
		}
		out = append(out, s)
	}
	return out
}

func TestMagicRecipients(t *testing.T) {
	type send struct {
		http int // HTTP status of the answer
		code int // error code in the answer, if refused
	}
	tests := []struct {
		to        string
		wa        []send   // WhatsApp sends in order
		waStatus  []string // status callbacks for the accepted WhatsApp sends
		sms       send
		smsStatus []string
	}{
		{to: DefaultRecipient, wa: []send{{200, 0}}, waStatus: []string{"sent", "delivered", "read"},
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: "+44 7700 900123", wa: []send{{200, 0}}, waStatus: []string{"sent", "delivered", "read"},
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: WhatsAppUndeliverable, wa: []send{{200, 0}}, waStatus: []string{"failed:131026"},
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: WhatsAppSilent, wa: []send{{200, 0}}, waStatus: nil,
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: WhatsAppWindowClosed, wa: []send{{400, 131047}, {400, 131047}}, waStatus: nil,
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: Unreachable, wa: []send{{200, 0}}, waStatus: []string{"failed:131026"},
			sms: send{201, 0}, smsStatus: []string{"sent", "undelivered:30003"}},
		{to: WhatsAppRateLimited, wa: []send{{400, 130429}, {200, 0}}, waStatus: []string{"sent", "delivered", "read"},
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		{to: SMSInvalid, wa: []send{{200, 0}}, waStatus: []string{"failed:131026"},
			sms: send{400, 21211}, smsStatus: nil},
		{to: WhatsAppDeliveredLate, wa: []send{{200, 0}}, waStatus: []string{"sent", "delivered"},
			sms: send{201, 0}, smsStatus: []string{"sent", "delivered"}},
		// Numbers match on digits only.
		{to: "1 (555) 000-0004", wa: []send{{200, 0}}, waStatus: []string{"failed:131026"},
			sms: send{201, 0}, smsStatus: []string{"sent", "undelivered:30003"}},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			sb, base := newSandbox(t, rc, nil)

			var ids []string
			for i, want := range tt.wa {
				code, _, ans := postWhatsApp(t, base, testToken, testPhoneID, templateBody(tt.to))
				if code != want.http {
					t.Fatalf("WhatsApp send %d: HTTP %d, want %d: %v", i, code, want.http, ans)
				}
				if want.code != 0 {
					if got := path(ans, "error", "code"); got != float64(want.code) {
						t.Errorf("WhatsApp send %d: error code %v, want %d: %v", i, got, want.code, ans)
					}
					continue
				}
				checkGraphAnswer(t, ans, tt.to)
				ids = append(ids, path(ans, "messages", 0, "id").(string))
			}

			code, _, ans := postSMS(t, base, testSID, testAuth, testSID, smsForm(tt.to, rc.statusCallback()))
			if code != tt.sms.http {
				t.Fatalf("SMS send: HTTP %d, want %d: %v", code, tt.sms.http, ans)
			}
			if tt.sms.code != 0 {
				if got := path(ans, "code"); got != float64(tt.sms.code) {
					t.Errorf("SMS send: code %v, want %d: %v", got, tt.sms.code, ans)
				}
			} else {
				checkTwilioAnswer(t, ans, tt.to)
				ids = append(ids, ans["sid"].(string))
			}

			rc.wait(len(tt.waStatus)+len(tt.smsStatus), 5*time.Second)
			time.Sleep(20 * statusDelay) // let any unexpected extra status arrive
			sb.Close()
			events, _ := rc.snapshot()

			if got := statusesOf(events, ProviderWhatsApp); !slices.Equal(got, tt.waStatus) {
				t.Errorf("WhatsApp statuses %q, want %q", got, tt.waStatus)
			}
			if got := statusesOf(events, ProviderTwilio); !slices.Equal(got, tt.smsStatus) {
				t.Errorf("SMS statuses %q, want %q", got, tt.smsStatus)
			}
			for _, e := range events {
				if !slices.Contains(ids, e.id) {
					t.Errorf("status for unknown message %q", e.id)
				}
				if e.provider != ProviderWhatsApp {
					continue
				}
				if e.status == "failed" && e.hasOpaque {
					t.Errorf("failed status carries biz_opaque_callback_data %q", e.opaque)
				}
				if e.status != "failed" && e.opaque != testOpaque {
					t.Errorf("%s status: biz_opaque_callback_data %q, want %q", e.status, e.opaque, testOpaque)
				}
			}
			if len(sb.Sent()) != len(ids) {
				t.Errorf("Sent() has %d messages, want %d", len(sb.Sent()), len(ids))
			}
		})
	}
}

func checkGraphAnswer(t *testing.T, ans map[string]any, to string) {
	t.Helper()
	id, _ := path(ans, "messages", 0, "id").(string)
	if path(ans, "messaging_product") != "whatsapp" ||
		path(ans, "contacts", 0, "input") != to ||
		path(ans, "contacts", 0, "wa_id") != digits(to) ||
		!strings.HasPrefix(id, "wamid.") ||
		path(ans, "messages", 0, "message_status") != "accepted" {
		t.Errorf("bad Graph answer: %v", ans)
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(id, "wamid.")); err != nil {
		t.Errorf("wamid %q is not base64: %v", id, err)
	}
}

var smsSID = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func checkTwilioAnswer(t *testing.T, ans map[string]any, to string) {
	t.Helper()
	sid, _ := ans["sid"].(string)
	if !smsSID.MatchString(sid) || ans["status"] != "queued" || ans["to"] != to ||
		ans["from"] != "+15017122661" || ans["body"] != "Your code is 123456" ||
		ans["account_sid"] != testSID || ans["direction"] != "outbound-api" ||
		ans["api_version"] != "2010-04-01" ||
		ans["uri"] != "/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+".json" {
		t.Errorf("bad Twilio answer: %v", ans)
	}
	for _, k := range []string{"error_code", "error_message", "price", "date_sent"} {
		if v, ok := ans[k]; !ok || v != nil {
			t.Errorf("Twilio answer: %s = %v, want null", k, v)
		}
	}
	if _, err := time.Parse(time.RFC1123Z, ans["date_created"].(string)); err != nil {
		t.Errorf("date_created is not RFC 2822: %v", err)
	}
}

func TestDeliveredLate(t *testing.T) {
	rc := newReceiver(t)
	const late = 150 * time.Millisecond
	_, base := newSandbox(t, rc, func(c *Config) { c.LateDelay = late })
	if code, _, ans := postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppDeliveredLate)); code != 200 {
		t.Fatalf("HTTP %d: %v", code, ans)
	}
	events := rc.wait(2, 5*time.Second)
	if gap := events[1].at.Sub(events[0].at); gap < late {
		t.Errorf("delivered came %v after sent, want at least %v", gap, late)
	}
}

func TestWhatsAppText(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	code, _, ans := postWhatsApp(t, base, testToken, testPhoneID, map[string]any{
		"messaging_product": "whatsapp",
		"to":                "+16505551234",
		"text":              map[string]any{"body": "hello"}, // type defaults to text
	})
	if code != 200 {
		t.Fatalf("HTTP %d: %v", code, ans)
	}
	if _, ok := path(ans, "messages", 0).(map[string]any)["message_status"]; ok {
		t.Errorf("text answer has message_status: %v", ans)
	}
	events := rc.wait(3, 5*time.Second)
	for _, e := range events {
		if e.hasOpaque {
			t.Errorf("%s status has biz_opaque_callback_data though the send had none", e.status)
		}
	}
	sent := sb.Sent()
	if len(sent) != 1 || sent[0].Type != "text" || sent[0].Body != "hello" || sent[0].Template != "" {
		t.Errorf("Sent() = %+v", sent)
	}
}

func TestSent(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	before := time.Now()
	_, _, wa := postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppSilent))
	_, _, sms := postSMS(t, base, testSID, testAuth, testSID, smsForm(Unreachable, rc.statusCallback()))
	sent := sb.Sent()
	if len(sent) != 2 {
		t.Fatalf("Sent() has %d messages, want 2", len(sent))
	}
	w, s := sent[0], sent[1]
	if w.Provider != ProviderWhatsApp || w.ID != path(wa, "messages", 0, "id") || w.To != WhatsAppSilent ||
		w.Type != "template" || w.Template != "otp_code" || w.Language != "en_US" ||
		!slices.Equal(w.Params, []string{"123456"}) || w.CallbackData != testOpaque ||
		w.Outcome != "WhatsAppSilent" || w.Time.Before(before) {
		t.Errorf("WhatsApp SentMessage = %+v", w)
	}
	if s.Provider != ProviderTwilio || s.ID != sms["sid"] || s.To != Unreachable || s.Type != "sms" ||
		s.Body != "Your code is 123456" || s.StatusCallback != rc.statusCallback() || s.Outcome != "Unreachable" {
		t.Errorf("Twilio SentMessage = %+v", s)
	}
	sent[0].Params[0] = "changed"
	if sb.Sent()[0].Params[0] != "123456" {
		t.Error("Sent() shares Params with the Sandbox")
	}
}

func TestTwilioMessagingService(t *testing.T) {
	rc := newReceiver(t)
	var mu sync.Mutex
	var forms []url.Values
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cb", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f, _ := url.ParseQuery(string(b))
		if sig := r.Header.Get("X-Twilio-Signature"); sig != twilioSig(testAuth, "http://"+r.Host+r.URL.RequestURI(), f) {
			t.Errorf("bad signature %q", sig)
		}
		mu.Lock()
		forms = append(forms, f)
		mu.Unlock()
	})
	cb := httptest.NewServer(mux)
	defer cb.Close()
	_, base := newSandbox(t, rc, nil)

	form := url.Values{"To": {DefaultRecipient}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
		"Body": {"hi"}, "StatusCallback": {cb.URL + "/cb"}}
	code, _, ans := postSMS(t, base, testSID, testAuth, testSID, form)
	if code != 201 || ans["status"] != "accepted" || ans["from"] != nil ||
		ans["messaging_service_sid"] != "MG0123456789abcdef0123456789abcdef" {
		t.Fatalf("HTTP %d: %v", code, ans)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(forms)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d callbacks, want 2", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, f := range forms {
		if f.Get("MessagingServiceSid") == "" || f.Get("From") == "" {
			t.Errorf("callback without MessagingServiceSid or From: %v", f)
		}
	}
	if forms[1].Get("RawDlrDoneDate") == "" {
		t.Errorf("delivered callback without RawDlrDoneDate: %v", forms[1])
	}
}

func TestTwilioWithoutStatusCallback(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	if code, _, ans := postSMS(t, base, testSID, testAuth, testSID, smsForm(DefaultRecipient, "")); code != 201 {
		t.Fatalf("HTTP %d: %v", code, ans)
	}
	time.Sleep(20 * statusDelay)
	sb.Close()
	if _, reqs := rc.snapshot(); len(reqs) != 0 {
		t.Errorf("got %d callbacks without a StatusCallback", len(reqs))
	}
}

func TestAuth(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)

	wa := []struct {
		name, token, phoneID string
		http, code           int
	}{
		{"no token", "", testPhoneID, 401, 190},
		{"wrong token", "EAAJBwrong", testPhoneID, 401, 190},
		{"wrong phone number id", testToken, "999", 400, 100},
	}
	for _, tt := range wa {
		t.Run("whatsapp/"+tt.name, func(t *testing.T) {
			code, h, ans := postWhatsApp(t, base, tt.token, tt.phoneID, templateBody(DefaultRecipient))
			if code != tt.http || path(ans, "error", "code") != float64(tt.code) {
				t.Errorf("HTTP %d %v, want %d with code %d", code, ans, tt.http, tt.code)
			}
			if path(ans, "error", "fbtrace_id") == "" || path(ans, "error", "type") == nil {
				t.Errorf("error lacks type or fbtrace_id: %v", ans)
			}
			if tt.http == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "OAuth") {
				t.Errorf("WWW-Authenticate = %q", h.Get("WWW-Authenticate"))
			}
		})
	}

	tw := []struct {
		name, user, pass, pathSID string
		http, code                int
	}{
		{"no auth", "", "", testSID, 401, 20003},
		{"wrong token", testSID, "wrong", testSID, 401, 20003},
		{"wrong account", "AC00000000000000000000000000000000", testAuth, testSID, 401, 20003},
		{"other account in path", testSID, testAuth, "AC00000000000000000000000000000000", 404, 20404},
	}
	for _, tt := range tw {
		t.Run("twilio/"+tt.name, func(t *testing.T) {
			code, h, ans := postSMS(t, base, tt.user, tt.pass, tt.pathSID, smsForm(DefaultRecipient, rc.statusCallback()))
			if code != tt.http || ans["code"] != float64(tt.code) || ans["status"] != float64(tt.http) ||
				ans["more_info"] != "https://www.twilio.com/docs/errors/"+strconv.Itoa(tt.code) {
				t.Errorf("HTTP %d %v, want %d with code %d", code, ans, tt.http, tt.code)
			}
			if tt.http == 401 && h.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
	if n := len(sb.Sent()); n != 0 {
		t.Errorf("Sent() has %d messages after refused sends", n)
	}
}

func TestBadBodies(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)

	with := func(edit func(m map[string]any)) map[string]any {
		m := templateBody(DefaultRecipient)
		edit(m)
		return m
	}
	wa := []struct {
		name    string
		body    any
		code    int
		message string // substring of error.message or error.error_data.details
	}{
		{"not JSON", `{"messaging_product":`, 100, "not a valid JSON"},
		{"no messaging_product", with(func(m map[string]any) { delete(m, "messaging_product") }), 100, "messaging_product is required"},
		{"wrong messaging_product", with(func(m map[string]any) { m["messaging_product"] = "instagram" }), 100, "must be one of"},
		{"no to", with(func(m map[string]any) { delete(m, "to") }), 100, "to is required"},
		{"to without digits", with(func(m map[string]any) { m["to"] = "alice" }), 131009, "not a phone number"},
		{"image without its object", with(func(m map[string]any) { m["type"] = "image" }), 131008, "Required parameter is missing"},
		{"sticker", with(func(m map[string]any) { m["type"] = "sticker" }), 131051, "Unsupported message type"},
		{"template without name", with(func(m map[string]any) { m["template"].(map[string]any)["name"] = "" }), 131008, "template['name']"},
		{"template without language", with(func(m map[string]any) { delete(m["template"].(map[string]any), "language") }), 131008, "template['language']['code']"},
		{"text without body", map[string]any{"messaging_product": "whatsapp", "to": DefaultRecipient, "type": "text"}, 131008, "text['body']"},
		{"long biz_opaque_callback_data", with(func(m map[string]any) { m["biz_opaque_callback_data"] = strings.Repeat("x", 513) }), 100, "at most 512"},
	}
	for _, tt := range wa {
		t.Run("whatsapp/"+tt.name, func(t *testing.T) {
			code, _, ans := postWhatsApp(t, base, testToken, testPhoneID, tt.body)
			msg := fmt.Sprint(path(ans, "error", "message"), " ", path(ans, "error", "error_data", "details"))
			if code != 400 || path(ans, "error", "code") != float64(tt.code) || !strings.Contains(msg, tt.message) {
				t.Errorf("HTTP %d %v, want 400 with code %d and %q", code, ans, tt.code, tt.message)
			}
		})
	}

	form := func(edit func(f url.Values)) url.Values {
		f := smsForm(DefaultRecipient, rc.statusCallback())
		edit(f)
		return f
	}
	tw := []struct {
		name    string
		form    url.Values
		code    int
		message string
	}{
		{"no To", form(func(f url.Values) { f.Del("To") }), 21604, "A 'To' phone number is required."},
		{"no From", form(func(f url.Values) { f.Del("From") }), 21603, "A 'From' phone number is required."},
		{"no Body", form(func(f url.Values) { f.Del("Body") }), 21602, "Message body is required."},
		{"long Body", form(func(f url.Values) { f.Set("Body", strings.Repeat("é", 1601)) }), 21617, "1600"},
		{"bad StatusCallback", form(func(f url.Values) { f.Set("StatusCallback", "/relative") }), 21609, "StatusCallback"},
		{"short To", form(func(f url.Values) { f.Set("To", "+123") }), 21211, "The 'To' number +123 is not a valid phone number."},
		{"magic SMSInvalid", form(func(f url.Values) { f.Set("To", SMSInvalid) }), 21211, "The 'To' number " + SMSInvalid + " is not a valid phone number."},
	}
	for _, tt := range tw {
		t.Run("twilio/"+tt.name, func(t *testing.T) {
			code, _, ans := postSMS(t, base, testSID, testAuth, testSID, tt.form)
			want := map[string]any{"code": float64(tt.code), "status": float64(400),
				"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(tt.code)}
			for k, v := range want {
				if ans[k] != v {
					t.Errorf("%s = %v, want %v", k, ans[k], v)
				}
			}
			if msg, _ := ans["message"].(string); code != 400 || !strings.Contains(msg, tt.message) {
				t.Errorf("HTTP %d %v, want 400 with %q", code, ans, tt.message)
			}
		})
	}
	if n := len(sb.Sent()); n != 0 {
		t.Errorf("Sent() has %d messages after bad sends", n)
	}
}

func TestErrorBodies(t *testing.T) {
	rc := newReceiver(t)
	_, base := newSandbox(t, rc, nil)

	_, _, ans := postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppRateLimited))
	e := path(ans, "error").(map[string]any)
	want := map[string]any{
		"message":       "(#130429) Rate limit hit",
		"type":          "OAuthException",
		"code":          float64(130429),
		"error_data":    map[string]any{"messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached."},
		"error_subcode": float64(2494055),
	}
	for k, v := range want {
		if fmt.Sprint(e[k]) != fmt.Sprint(v) {
			t.Errorf("130429: %s = %v, want %v", k, e[k], v)
		}
	}

	_, _, ans = postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppWindowClosed))
	if path(ans, "error", "message") != "(#131047) Re-engagement message" ||
		!strings.Contains(path(ans, "error", "error_data", "details").(string), "24 hours") {
		t.Errorf("131047 body: %v", ans)
	}
}

func TestCallbackRetry(t *testing.T) {
	for _, provider := range []string{ProviderWhatsApp, ProviderTwilio} {
		t.Run(provider, func(t *testing.T) {
			rc := newReceiver(t)
			rc.fail = 1
			sb, base := newSandbox(t, rc, nil)
			if provider == ProviderWhatsApp {
				postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppUndeliverable))
			} else {
				postSMS(t, base, testSID, testAuth, testSID, smsForm(Unreachable, rc.statusCallback()))
			}
			want := map[string][]string{
				ProviderWhatsApp: {"failed:131026"},
				ProviderTwilio:   {"sent", "undelivered:30003"},
			}[provider]
			rc.wait(len(want), 5*time.Second)
			time.Sleep(20 * statusDelay)
			sb.Close()
			events, reqs := rc.snapshot()
			if got := statusesOf(events, provider); !slices.Equal(got, want) {
				t.Errorf("statuses %q, want %q", got, want)
			}
			if len(reqs) != len(want)+1 {
				t.Fatalf("receiver saw %d requests, want %d", len(reqs), len(want)+1)
			}
			if reqs[0] != reqs[1] {
				t.Errorf("retry differs from the first try:\n%+v\n%+v", reqs[0], reqs[1])
			}
			if got, want := sb.Callbacks(), (CallbackStats{Started: len(want), Answered: len(want), Retried: 1}); got != want {
				t.Errorf("Callbacks() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestCallbackGivesUp(t *testing.T) {
	rc := newReceiver(t)
	rc.failAll = true
	sb, base := newSandbox(t, rc, func(c *Config) { c.CallbackAttempts = 3 })
	postWhatsApp(t, base, testToken, testPhoneID, templateBody(DefaultRecipient))
	// sent, delivered and read are each tried 3 times, then dropped.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, reqs := rc.snapshot(); len(reqs) >= 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for 9 tries")
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(40 * statusDelay)
	sb.Close()
	_, reqs := rc.snapshot()
	if len(reqs) != 9 {
		t.Errorf("receiver saw %d tries, want 9", len(reqs))
	}
	if got, want := sb.Callbacks(), (CallbackStats{Started: 3, Retried: 6, Dropped: 3}); got != want || got.Pending() != 0 {
		t.Errorf("Callbacks() = %+v (pending %d), want %+v", got, got.Pending(), want)
	}
	var statuses []string
	for _, r := range reqs {
		var p struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Statuses []struct{ Status string }
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, p.Entry[0].Changes[0].Value.Statuses[0].Status)
	}
	want := []string{"sent", "sent", "sent", "delivered", "delivered", "delivered", "read", "read", "read"}
	if !slices.Equal(statuses, want) {
		t.Errorf("tries %q, want %q", statuses, want)
	}
}

func TestClose(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, func(c *Config) { c.LateDelay = time.Hour })
	postWhatsApp(t, base, testToken, testPhoneID, templateBody(WhatsAppDeliveredLate))
	rc.wait(1, 5*time.Second)
	start := time.Now()
	sb.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with a callback pending", d)
	}
	sb.Close() // twice is fine
	code, _, ans := postWhatsApp(t, base, testToken, testPhoneID, templateBody(DefaultRecipient))
	if code != 503 || path(ans, "error", "code") != float64(2) {
		t.Errorf("send after Close: HTTP %d %v, want 503 with code 2", code, ans)
	}
	code, _, ans = postSMS(t, base, testSID, testAuth, testSID, smsForm(DefaultRecipient, rc.statusCallback()))
	if code != 503 {
		t.Errorf("SMS after Close: HTTP %d %v, want 503", code, ans)
	}
	if events, _ := rc.snapshot(); len(events) != 1 {
		t.Errorf("got %d statuses, want only sent", len(events))
	}
}

func TestNewChecksConfig(t *testing.T) {
	good := Config{
		WhatsAppWebhookURL: "http://127.0.0.1:8080/webhooks/whatsapp",
		AppSecret:          "s", AccessToken: "t", PhoneNumberID: "1",
		TwilioAccountSID: "AC1", TwilioAuthToken: "x",
	}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good): %v", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no secrets", func(c *Config) { c.AppSecret, c.TwilioAuthToken = "", "" }, "AppSecret, TwilioAuthToken"},
		{"relative webhook", func(c *Config) { c.WhatsAppWebhookURL = "/webhooks/whatsapp" }, "WhatsAppWebhookURL"},
	}
	for _, tt := range tests {
		cfg := good
		tt.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestSignatures(t *testing.T) {
	// providers.md §2.2, self-constructed vector.
	got := WhatsAppSignature("test_app_secret", []byte(`{"object":"whatsapp_business_account","entry":[]}`))
	if want := "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"; got != want {
		t.Errorf("WhatsAppSignature = %s, want %s", got, want)
	}

	// providers.md §4.3, vectors T1 and T2 (twilio-go's tests), T3 (negative) and T9.
	t1 := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"},
		"ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	t9, err := url.ParseQuery("AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&ApiVersion=2010-04-01&From=%2B15017122661" +
		"&MessageSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&MessageStatus=undelivered&ErrorCode=30003" +
		"&SmsSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&SmsStatus=undelivered&To=%2B15558675310")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url string
		params    url.Values
		want      string
	}{
		{"T1", "https://mycompany.com/myapp.php?foo=1&bar=2", t1, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{"T2", "http://mycompany.com/myapp.php?foo=1&bar=2", t1, "n2xBNyzSW7rfYStDtOFiFMv7qNo="},
		{"T9", "https://example.com/twilio/status", t9, "l1wvcDi4EjXdXpnaIKNVD5+hoC0="},
	}
	for _, tt := range tests {
		if got := TwilioSignature("12345", tt.url, tt.params); got != tt.want {
			t.Errorf("%s: TwilioSignature = %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := TwilioSignature("12345", tests[0].url, t1); got == "95+Bu0JVPi0r/SsESZCVf0dWAjw=" {
		t.Error("T3: signature matches the wrongly sorted one")
	}
}

func TestOutcomes(t *testing.T) {
	want := []Outcome{
		{DefaultRecipient, "DefaultRecipient",
			"accepted (HTTP 200); then sent, delivered, read",
			"queued (HTTP 201); then sent, delivered"},
		{WhatsAppUndeliverable, "WhatsAppUndeliverable",
			"accepted (HTTP 200); then failed 131026",
			"queued (HTTP 201); then sent, delivered"},
		{WhatsAppSilent, "WhatsAppSilent",
			"accepted (HTTP 200); then no status at all",
			"queued (HTTP 201); then sent, delivered"},
		{WhatsAppWindowClosed, "WhatsAppWindowClosed",
			"refused (HTTP 400, error 131047)",
			"queued (HTTP 201); then sent, delivered"},
		{Unreachable, "Unreachable",
			"accepted (HTTP 200); then failed 131026",
			"queued (HTTP 201); then sent, undelivered 30003"},
		{WhatsAppRateLimited, "WhatsAppRateLimited",
			"refused (HTTP 400, error 130429) on the first send; later sends accepted (HTTP 200); then sent, delivered, read",
			"queued (HTTP 201); then sent, delivered"},
		{SMSInvalid, "SMSInvalid",
			"accepted (HTTP 200); then failed 131026",
			"refused (HTTP 400, error 21211)"},
		{WhatsAppDeliveredLate, "WhatsAppDeliveredLate",
			"accepted (HTTP 200); then sent, delivered after LateDelay (default 45s)",
			"queued (HTTP 201); then sent, delivered"},
		{SMSRateLimited, "SMSRateLimited",
			"accepted (HTTP 200); then sent, delivered, read",
			"refused (HTTP 429, error 20429) on the first send; later sends queued (HTTP 201); then sent, delivered"},
		{NoAnswer, "NoAnswer", "no answer (until the client gives up)", "no answer (until the client gives up)"},
	}
	if got := Outcomes(); !slices.Equal(got, want) {
		var b bytes.Buffer
		for _, o := range got {
			fmt.Fprintf(&b, "%+v\n", o)
		}
		t.Errorf("Outcomes() =\n%s", b.String())
	}
	for _, o := range Outcomes() {
		if got := lookup(digits(o.Number)).name; got != o.Name {
			t.Errorf("lookup(%s) = %s, want %s", o.Number, got, o.Name)
		}
	}
}
