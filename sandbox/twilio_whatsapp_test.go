package sandbox

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func whatsAppForm(to, callback string) url.Values {
	return url.Values{"To": {"whatsapp:" + to}, "From": {"whatsapp:+15017122661"}, "StatusCallback": {callback},
		"ContentSid": {"HX0123456789abcdef0123456789abcdef"}, "ContentVariables": {`{"1":"493817"}`}}
}

func TestTwilioWhatsApp(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	cb := rc.statusCallback()

	code, _, ans := postSMS(t, base, testSID, testAuth, testSID, whatsAppForm(DefaultRecipient, cb))
	if code != 201 || ans["to"] != "whatsapp:"+DefaultRecipient || ans["from"] != "whatsapp:+15017122661" {
		t.Fatalf("HTTP %d: %v", code, ans)
	}
	if code, _, ans := postSMS(t, base, testSID, testAuth, testSID, whatsAppForm(WhatsAppUndeliverable, cb)); code != 201 {
		t.Fatalf("undeliverable: HTTP %d: %v", code, ans)
	}
	got := statusesOf(rc.wait(4, 5*time.Second), ProviderTwilio)
	for _, want := range []string{"sent", "delivered", "read", "failed:63024"} {
		if !slices.Contains(got, want) {
			t.Errorf("callbacks %v lack %s", got, want)
		}
	}
	sent := sb.Sent()
	if len(sent) != 2 || sent[0].Type != "template" || sent[0].Template != "HX0123456789abcdef0123456789abcdef" {
		t.Errorf("Sent = %+v", sent)
	}

	refusals := []struct {
		name       string
		form       url.Values
		http, code int
	}{
		{"window closed", whatsAppForm(WhatsAppWindowClosed, cb), 400, 63016},
		{"rate limited", whatsAppForm(WhatsAppRateLimited, cb), 429, 63018},
		{"rate limited, later", whatsAppForm(WhatsAppRateLimited, cb), 201, 0},
		{"sms sender", func() url.Values { f := whatsAppForm(DefaultRecipient, cb); f.Set("From", "+15017122661"); return f }(), 400, 63007},
		{"variables without content", func() url.Values { f := whatsAppForm(DefaultRecipient, cb); f.Del("ContentSid"); return f }(), 400, 21654},
	}
	for _, tt := range refusals {
		code, _, ans := postSMS(t, base, testSID, testAuth, testSID, tt.form)
		if code != tt.http || (tt.code != 0 && ans["code"] != float64(tt.code)) {
			t.Errorf("%s: HTTP %d %v, want %d %d", tt.name, code, ans, tt.http, tt.code)
		}
	}
}
