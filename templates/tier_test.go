package templates

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/sandbox"
)

// FetchTier reads the number's messaging limit from the sandbox's Graph
// lookalike; another number is a Graph error; the deprecated field is a
// fallback.
func TestFetchTier(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{
		WhatsAppWebhookURL: "http://127.0.0.1:1/webhooks/whatsapp", AppSecret: "s", AccessToken: testToken,
		PhoneNumberID: "106540352242922", TwilioAccountSID: "AC1", TwilioAuthToken: "t", WABAID: testWABA, MessagingLimit: "TIER_2K",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	ctx := context.Background()
	cfg := SyncConfig{APIURL: srv.URL + "/v23.0", AccessToken: testToken, PhoneNumberID: "106540352242922"}
	if tier, err := FetchTier(ctx, cfg); err != nil || tier != "TIER_2K" {
		t.Errorf("FetchTier = %q, %v; want TIER_2K", tier, err)
	}
	cfg.PhoneNumberID = "999"
	var apiErr *whatsapp.APIError
	if _, err := FetchTier(ctx, cfg); !errors.As(err, &apiErr) {
		t.Errorf("another number: %v, want a Graph API error", err)
	}
	if _, err := FetchTier(ctx, SyncConfig{APIURL: srv.URL}); err == nil {
		t.Error("no phone number id: no error")
	}
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"1","messaging_limit_tier":"TIER_250"}`))
	}))
	defer old.Close()
	if tier, err := FetchTier(ctx, SyncConfig{APIURL: old.URL, PhoneNumberID: "1"}); err != nil || tier != "TIER_250" {
		t.Errorf("deprecated field: %q, %v", tier, err)
	}
}
