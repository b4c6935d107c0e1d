package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestEvents(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))
	c, err := FromEnv(env(map[string]string{"SWITCHBACK_EVENTS_URL": "https://events.example.com/in", "SWITCHBACK_WEBHOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventsURL != "https://events.example.com/in" || c.WebhookSecret != secret {
		t.Errorf("EventsURL, WebhookSecret = %q, %q", c.EventsURL, c.WebhookSecret)
	}
	if c, err := FromEnv(env(nil)); err != nil || c.EventsURL != "" {
		t.Errorf("defaults: EventsURL = %q, err %v; want none", c.EventsURL, err)
	}

	short := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 23)))
	checkEnvErrors(t, []envErrorCase{
		{"url without secret", map[string]string{"SWITCHBACK_EVENTS_URL": "https://events.example.com/in"}, []string{"SWITCHBACK_WEBHOOK_SECRET"}},
		{"relative url", map[string]string{"SWITCHBACK_EVENTS_URL": "/in", "SWITCHBACK_WEBHOOK_SECRET": secret}, []string{"SWITCHBACK_EVENTS_URL", "absolute"}},
		{"other scheme", map[string]string{"SWITCHBACK_EVENTS_URL": "ftp://events.example.com", "SWITCHBACK_WEBHOOK_SECRET": secret}, []string{"SWITCHBACK_EVENTS_URL"}},
		{"short key", map[string]string{"SWITCHBACK_WEBHOOK_SECRET": short}, []string{"SWITCHBACK_WEBHOOK_SECRET", "23 bytes"}},
		{"no prefix", map[string]string{"SWITCHBACK_WEBHOOK_SECRET": strings.TrimPrefix(secret, "whsec_")}, []string{"SWITCHBACK_WEBHOOK_SECRET", "whsec_"}},
	})
}
