package app_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/keys"
)

// A worker process reads back, from WorkerEnviron, the configuration it
// was written from: Temporal, the store, the keys, the providers, the
// rates, the cache, the pollers and the version.
func TestWorkerEnvironRoundTrip(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.New(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = app.WithKeys(cfg, p); err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr, cfg.TemporalAddress, cfg.TemporalNamespace = "127.0.0.1:18080", "127.0.0.1:17233", "journeys"
	cfg.DatabaseURL, cfg.WorkerCache, cfg.WorkerPollers = "postgres://postgres@127.0.0.1:5432/x?sslmode=disable", 321, 7
	cfg.Worker = config.WorkerVersion{Deployment: "switchback", BuildID: "2026-12-01.1"}
	cfg, _, _ = app.UseSandbox(cfg.WithSettings(map[string]string{"SWITCHBACK_RATE_SMS": "7"}))

	env := map[string]string{}
	for _, kv := range app.WorkerEnviron(cfg) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	got, err := config.FromEnv(func(name string) string { return env[name] })
	if err != nil {
		t.Fatalf("the environment does not read back: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"temporal", []string{got.TemporalAddress, got.TemporalNamespace}, []string{cfg.TemporalAddress, cfg.TemporalNamespace}},
		{"store", []string{got.DataDir, got.DatabaseURL}, []string{cfg.DataDir, cfg.DatabaseURL}},
		{"encryption keys", got.EncryptionKeys, cfg.EncryptionKeys},
		{"contact key", string(got.ContactKeyOrDefault()), string(cfg.ContactKeyOrDefault())},
		{"worker cache", got.WorkerCache, cfg.WorkerCache},
		{"worker pollers", got.WorkerPollers, cfg.WorkerPollers},
		{"worker version", got.Worker, cfg.Worker},
		{"whatsapp", got.WhatsApp.APIURL + got.WhatsApp.AccessToken, cfg.WhatsApp.APIURL + cfg.WhatsApp.AccessToken},
		{"twilio", *got.Twilio, *cfg.Twilio},
		{"sendgrid", got.SendGrid.APIKey + got.SendGrid.APIURL, cfg.SendGrid.APIKey + cfg.SendGrid.APIURL},
		{"business number", got.WhatsAppBusinessNumber, cfg.WhatsAppBusinessNumber},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: read back %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, d := range app.Channels().Drivers() {
		want, _ := cfg.Rate(d)
		if r, err := got.Rate(d); err != nil || r != want {
			t.Errorf("rate of %s: read back %v (%v), want %v", d.Channel(), r, err, want)
		}
	}
}
