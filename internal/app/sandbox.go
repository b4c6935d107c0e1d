package app

import (
	"crypto/rand"
	"net/http"

	"github.com/switchbackhq/switchback/channels"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
)

// SandboxPrefix is where the sandbox providers are mounted on the HTTP server.
const SandboxPrefix = "/sandbox"

// SandboxPhoneNumberID is the WhatsApp phone number id of the sandbox.
const SandboxPhoneNumberID = "100000000000001"

// SandboxBusinessNumber is the WhatsApp business number of the sandbox,
// which wa_link links to when WHATSAPP_BUSINESS_NUMBER is unset.
const SandboxBusinessNumber = "+15550009999"

// SandboxEmailFrom is the sender of the sandbox's email.
const SandboxEmailFrom = "Switchback Sandbox <noreply@sandbox.switchback.test>"

// SendGridEventsPath is the path of SendGrid's Event Webhook.
const SendGridEventsPath = "/webhooks/sendgrid"

// UseSandbox points every provider that cfg leaves unconfigured at the
// sandbox served under SandboxPrefix of cfg's HTTP server, with fresh
// credentials. It returns the completed configuration, the sandbox's
// configuration, and the names of the providers it replaced.
func UseSandbox(cfg config.Config) (config.Config, sandbox.Config, []string) {
	base := "http://" + cfg.HTTPAddr + SandboxPrefix
	sc := sandbox.Config{
		WhatsAppWebhookURL: cfg.PublicURLOrDefault() + "/webhooks/whatsapp",
		AppSecret:          rand.Text(),
		AccessToken:        rand.Text(),
		PhoneNumberID:      SandboxPhoneNumberID,
		TwilioAccountSID:   "AC" + rand.Text(),
		TwilioAuthToken:    rand.Text(),
		WABAID:             sandbox.DefaultWABAID,
	}
	var replaced []string
	if cfg.WhatsApp == nil {
		cfg.WhatsApp = &config.WhatsApp{
			AccessToken:   sc.AccessToken,
			PhoneNumberID: sc.PhoneNumberID,
			AppSecret:     sc.AppSecret,
			VerifyToken:   "switchback-dev",
			APIURL:        base + "/v23.0",
			WABAID:        sc.WABAID,
		}
		if cfg.WhatsAppBusinessNumber == "" {
			cfg.WhatsAppBusinessNumber = SandboxBusinessNumber
		}
		replaced = append(replaced, "WhatsApp")
	}
	if cfg.Twilio == nil {
		cfg.Twilio = &config.Twilio{
			AccountSID: sc.TwilioAccountSID,
			AuthToken:  sc.TwilioAuthToken,
			From:       "+15005550006",
			APIURL:     base,
		}
		replaced = append(replaced, "Twilio SMS")
	}
	// A P-256 key from crypto/rand does not fail to generate; if it ever
	// did, only the SendGrid lookalike would be missing.
	if key, pub, err := sandbox.NewSendGridKey(); err == nil {
		sc.SendGridAPIKey = "SG." + rand.Text()
		sc.SendGridWebhookURL = cfg.PublicURLOrDefault() + SendGridEventsPath
		sc.SendGridSigningKey = key
		if cfg.SendGrid == nil {
			cfg.SendGrid = &config.SendGrid{
				APIKey:           sc.SendGridAPIKey,
				From:             SandboxEmailFrom,
				APIURL:           base,
				WebhookPublicKey: pub,
			}
			replaced = append(replaced, "SendGrid email")
		}
	}
	cfg.SandboxURL = base
	return cfg, sc, append(replaced, sandboxedChannels(cfg)...)
}

// sandboxedChannels names the channels whose own settings are unset and
// whose driver has a lookalike: they send to the sandbox.
func sandboxedChannels(cfg config.Config) []string {
	env := channels.Env{Getenv: cfg.Getenv}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	var names []string
	for _, d := range Channels().Drivers() {
		c, configurable := d.(channels.Configurable)
		if _, ok := d.(channels.Sandboxed); !ok || !configurable {
			continue
		}
		if s, err := c.NewSender(env); err == nil && s == nil {
			names = append(names, string(d.Channel()))
		}
	}
	return names
}

// SandboxHandler serves the sandbox lookalikes under SandboxPrefix: each
// channel driver's own (channels.Sandboxed) under its channel's name, and
// providers (the WhatsApp, Twilio and SendGrid lookalikes) elsewhere.
// Mount it at SandboxPrefix + "/".
func SandboxHandler(providers http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", providers)
	for _, d := range Channels().Drivers() {
		if s, ok := d.(channels.Sandboxed); ok {
			p := "/" + string(d.Channel())
			mux.Handle(p+"/", http.StripPrefix(p, s.Sandbox()))
		}
	}
	return http.StripPrefix(SandboxPrefix, mux)
}
