package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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
