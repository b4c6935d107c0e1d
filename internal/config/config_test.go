package config

import "testing"

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != DefaultTemporalAddress || c.TemporalNamespace != "default" || c.HTTPAddr != DefaultHTTPAddr {
		t.Errorf("defaults = %+v", c)
	}
	if c.WhatsApp != nil || c.Twilio != nil {
		t.Errorf("providers configured with no variables set: %+v %+v", c.WhatsApp, c.Twilio)
	}
	if got := c.PublicURLOrDefault(); got != "http://127.0.0.1:8080" {
		t.Errorf("PublicURLOrDefault = %q", got)
	}
}

func TestFromEnvProviders(t *testing.T) {
	full := map[string]string{
		"WHATSAPP_ACCESS_TOKEN": "tok", "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
		"WHATSAPP_APP_SECRET": "sec", "WHATSAPP_VERIFY_TOKEN": "vt",
		"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "auth", "TWILIO_FROM": "+15005550006",
	}
	c, err := FromEnv(env(full))
	if err != nil {
		t.Fatal(err)
	}
	if c.WhatsApp.APIURL != DefaultWhatsAppAPIURL || c.Twilio.APIURL != DefaultTwilioAPIURL || c.Twilio.From != "+15005550006" {
		t.Errorf("config = %+v %+v", c.WhatsApp, c.Twilio)
	}

	tests := []envErrorCase{
		{"whatsapp without secret", map[string]string{"WHATSAPP_ACCESS_TOKEN": "tok", "WHATSAPP_PHONE_NUMBER_ID": "1"},
			[]string{"WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"}},
		{"bad whatsapp url", map[string]string{"WHATSAPP_API_URL": "graph.facebook.com"}, []string{"WHATSAPP_API_URL", "WHATSAPP_ACCESS_TOKEN"}},
		{"twilio without sender", map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "x"},
			[]string{"TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID"}},
		{"twilio bad sid", map[string]string{"TWILIO_ACCOUNT_SID": "XX1", "TWILIO_AUTH_TOKEN": "x", "TWILIO_FROM": "+1"},
			[]string{"TWILIO_ACCOUNT_SID"}},
		{"bad temporal address", map[string]string{"SWITCHBACK_TEMPORAL_ADDRESS": "localhost"}, []string{"SWITCHBACK_TEMPORAL_ADDRESS"}},
		{"bad public url", map[string]string{"SWITCHBACK_PUBLIC_URL": "/hooks"}, []string{"SWITCHBACK_PUBLIC_URL"}},
		{"bad metrics address", map[string]string{"SWITCHBACK_METRICS_ADDR": "9464"}, []string{"SWITCHBACK_METRICS_ADDR"}},
		{"bad log format", map[string]string{"SWITCHBACK_LOG_FORMAT": "logfmt"}, []string{"SWITCHBACK_LOG_FORMAT"}},
		{"bad log level", map[string]string{"SWITCHBACK_LOG_LEVEL": "loud"}, []string{"SWITCHBACK_LOG_LEVEL"}},
	}
	checkEnvErrors(t, tests)
}
