package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// The sandbox posts signed template status and number quality changes
// that the WhatsApp webhook parser reads as Meta's, and the number node
// then reports the new tier.
func TestAccountChanges(t *testing.T) {
	var mu sync.Mutex
	var got []*whatsapp.Notification
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := whatsapp.VerifySignature(body, r.Header.Get("X-Hub-Signature-256"), testSecret); err != nil {
			t.Errorf("signature: %v", err)
		}
		n, err := whatsapp.ParseNotification(body)
		if err != nil {
			t.Errorf("parse %s: %v", body, err)
			return
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	}))
	defer hook.Close()
	sb, err := New(Config{WhatsAppWebhookURL: hook.URL + "/whatsapp", AppSecret: testSecret, AccessToken: testToken,
		PhoneNumberID: testPhoneID, TwilioAccountSID: testSID, TwilioAuthToken: testAuth, MessagingLimit: "TIER_10K"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()
	if err := sb.TemplateStatusChanges(ctx, "otp_code", "en_US", "PAUSED"); err != nil {
		t.Fatal(err)
	}
	if err := sb.NumberQualityChanges(ctx, "DOWNGRADE", "TIER_2K"); err != nil {
		t.Fatal(err)
	}
	if err := sb.TemplateStatusChanges(ctx, "no_such", "en_US", "PAUSED"); err == nil {
		t.Error("an unknown template: no error")
	}
	if len(got) != 2 {
		t.Fatalf("%d webhooks, want 2", len(got))
	}
	ts, err := got[0].TemplateStatusUpdates()
	if err != nil || len(ts) != 1 || ts[0].Name != "otp_code" || ts[0].Language != "en-US" || ts[0].Event != "PAUSED" || ts[0].TemplateID == 0 {
		t.Errorf("template status = %+v, %v", ts, err)
	}
	nq, err := got[1].NumberQualityUpdates()
	if err != nil || len(nq) != 1 || nq[0].Event != "DOWNGRADE" || nq[0].Tier() != "TIER_2K" || nq[0].OldLimit != "TIER_10K" || nq[0].WABAID != DefaultWABAID {
		t.Errorf("number quality = %+v, %v", nq, err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v23.0/"+testPhoneID+"?fields=whatsapp_business_manager_messaging_limit", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"whatsapp_business_manager_messaging_limit":"TIER_2K"`) {
		t.Errorf("number node = %d %s, want TIER_2K", resp.StatusCode, body)
	}
}

// A template Meta paused is still accepted (200), then fails with 132015;
// disabled, with 132016; reinstated, it is delivered again. The template
// list reports each status.
func TestPausedTemplateFails(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	ctx := context.Background()
	for _, c := range []struct {
		event, status string
		want          []string // the statuses of a send, in any order
	}{
		{"PAUSED", "PAUSED", []string{"failed:132015"}},
		{"DISABLED", "DISABLED", []string{"failed:132016"}},
		{"REINSTATED", "APPROVED", []string{"delivered", "read", "sent"}},
	} {
		if err := sb.TemplateStatusChanges(ctx, "otp_code", "en_US", c.event); err != nil {
			t.Fatal(err)
		}
		before, _ := rc.snapshot()
		if status, _, ans := postWhatsApp(t, base, testToken, testPhoneID, templateBody(DefaultRecipient)); status != http.StatusOK {
			t.Fatalf("%s: send = %d %v, want 200", c.event, status, ans)
		}
		got := statusesOf(rc.wait(len(before)+len(c.want), 5*time.Second)[len(before):], ProviderWhatsApp)
		if slices.Sort(got); !slices.Equal(got, c.want) {
			t.Errorf("%s: statuses %v, want %v", c.event, got, c.want)
		}
		if s := listedStatus(t, base, "otp_code"); s != c.status {
			t.Errorf("%s: the template list says %s, want %s", c.event, s, c.status)
		}
	}
}

// listedStatus returns the status the Graph lookalike lists for a template.
func listedStatus(t *testing.T, base, name string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v23.0/"+DefaultWABAID+"/message_templates?limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	status, _, ans := do(t, req)
	if status != http.StatusOK {
		t.Fatalf("templates = %d %v", status, ans)
	}
	data, _ := ans["data"].([]any)
	for _, d := range data {
		if m, _ := d.(map[string]any); m["name"] == name {
			s, _ := m["status"].(string)
			return s
		}
	}
	t.Fatalf("the template list has no %s: %v", name, ans)
	return ""
}

// A person plays Meta changing the account with POST /account: JSON only.
func TestHandPlayedAccountChange(t *testing.T) {
	rc := newReceiver(t)
	_, base := newSandbox(t, rc, nil)
	post := func(contentType, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/account", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		contentType, body string
		want              int
	}{
		{"application/x-www-form-urlencoded", "template=otp_code&event=PAUSED", http.StatusUnsupportedMediaType},
		{"application/json", `{"template": "otp_code"`, http.StatusBadRequest},
		{"application/json", `{"template": "otp_code", "number": "FLAGGED"}`, http.StatusBadRequest},
		{"application/json", `{"template": "no_such", "event": "PAUSED"}`, http.StatusBadGateway},
		{"application/json", `{"number": "FLAGGED"}`, http.StatusOK},
		{"application/json", `{"template": "otp_code", "language": "en_US", "event": "PAUSED"}`, http.StatusOK},
	} {
		if got := post(c.contentType, c.body); got != c.want {
			t.Errorf("POST /account %s = %d, want %d", c.body, got, c.want)
		}
	}
	if s := listedStatus(t, base, "otp_code"); s != "PAUSED" {
		t.Errorf("after the hand-played pause the template list says %s", s)
	}
}
