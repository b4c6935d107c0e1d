package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/internal/phone"
)

// SendGrid holds the SendGrid settings for email.
type SendGrid struct {
	APIKey  string // SENDGRID_API_KEY
	From    string // SENDGRID_FROM: an address or "Name <address>"
	ReplyTo string // SENDGRID_REPLY_TO, optional
	APIURL  string // SENDGRID_API_URL
	// WebhookPublicKey verifies the signed Event Webhook
	// (SENDGRID_WEBHOOK_PUBLIC_KEY). Empty: /webhooks/sendgrid is not served.
	WebhookPublicKey string
}

// Rate returns the activity rate, in sends per second, of channel d's
// task queue, which Temporal enforces across all workers: the setting
// SWITCHBACK_RATE_<CHANNEL> (SWITCHBACK_RATE_WHATSAPP, ..._SMS, ..._PUSH),
// else the driver's DefaultRate (for SMS through a Messaging Service, its
// sender pool's). Zero means no limit. A setting that is not a number of
// zero or more is an error naming it.
func (c Config) Rate(d channels.Driver) (float64, error) {
	name := "SWITCHBACK_RATE_" + strings.ToUpper(string(d.Channel()))
	v := ""
	if c.Getenv != nil {
		v = strings.TrimSpace(c.Getenv(name))
	}
	if v == "" {
		if d.Channel() == channels.SMS && c.Twilio != nil && c.Twilio.MessagingServiceSID != "" {
			return DefaultRateSMSWithService, nil
		}
		return d.DefaultRate(), nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r < 0 {
		return 0, errors.New(name + ": want a number of sends per second, 0 for no limit")
	}
	return r, nil
}

// WithSettings returns c reading the settings in set first, then those c
// was read from: how a test or the benchmark changes a rate, say.
func (c Config) WithSettings(set map[string]string) Config {
	next := c.Getenv
	c.Getenv = func(name string) string {
		if v, ok := set[name]; ok {
			return v
		}
		if next == nil {
			return ""
		}
		return next(name)
	}
	return c
}

// DefaultRateSMSWithService is the SMS rate through a Twilio Messaging
// Service, whose sender pool spreads the load.
const DefaultRateSMSWithService = sms.DefaultRateWithService

// DefaultSendGridAPIURL is SendGrid's API host.
const DefaultSendGridAPIURL = email.DefaultAPIURL

// setting returns the trimmed value of name, or def when it is unset.
func setting(getenv func(string) string, name, def string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return def
}

// readSendGrid reads the SENDGRID_* variables: nil when none is set.
func readSendGrid(getenv func(string) string) (*SendGrid, []error) {
	if !anySet(getenv, "SENDGRID_API_KEY", "SENDGRID_FROM", "SENDGRID_REPLY_TO", "SENDGRID_API_URL", "SENDGRID_WEBHOOK_PUBLIC_KEY") {
		return nil, nil
	}
	s := &SendGrid{
		APIKey:           setting(getenv, "SENDGRID_API_KEY", ""),
		From:             setting(getenv, "SENDGRID_FROM", ""),
		ReplyTo:          setting(getenv, "SENDGRID_REPLY_TO", ""),
		APIURL:           strings.TrimSuffix(setting(getenv, "SENDGRID_API_URL", DefaultSendGridAPIURL), "/"),
		WebhookPublicKey: setting(getenv, "SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
	}
	errs := required(map[string]string{"SENDGRID_API_KEY": s.APIKey, "SENDGRID_FROM": s.From}, "SendGrid")
	if err := checkURL(s.APIURL); err != nil {
		errs = append(errs, fmt.Errorf("SENDGRID_API_URL: %w", err))
	}
	if s.WebhookPublicKey != "" {
		if _, err := email.ParsePublicKey(s.WebhookPublicKey); err != nil {
			errs = append(errs, fmt.Errorf("SENDGRID_WEBHOOK_PUBLIC_KEY: %w", err))
		}
	}
	return s, errs
}

// WhatsApp providers (WHATSAPP_PROVIDER).
const (
	WhatsAppProviderMeta   = "meta"   // the Cloud API, with the WHATSAPP_* variables
	WhatsAppProviderTwilio = "twilio" // Twilio as the BSP, with the TWILIO_* credentials
)

// WhatsAppTwilio holds the settings of WhatsApp sent through Twilio
// (WHATSAPP_PROVIDER=twilio). The Twilio credentials and API URL are
// those of Config.Twilio.
type WhatsAppTwilio struct {
	// From is the WhatsApp-enabled sender, E.164 (WHATSAPP_FROM); it goes
	// as whatsapp:+....
	From string
	// Content maps "template:language" (twilio.ContentKey) to the Twilio
	// Content SID that carries the template (WHATSAPP_TWILIO_CONTENT:
	// comma-separated template:language=HX...).
	Content map[string]string
}

// readWhatsAppTwilio reads WHATSAPP_PROVIDER, and with "twilio",
// WHATSAPP_FROM and WHATSAPP_TWILIO_CONTENT: nil for the default provider,
// meta. tw is the Twilio configuration read from TWILIO_*, whose
// credentials the channel uses.
func readWhatsAppTwilio(getenv func(string) string, tw *Twilio) (*WhatsAppTwilio, []error) {
	provider := strings.ToLower(setting(getenv, "WHATSAPP_PROVIDER", WhatsAppProviderMeta))
	switch provider {
	case WhatsAppProviderMeta:
		var errs []error
		for _, name := range []string{"WHATSAPP_FROM", "WHATSAPP_TWILIO_CONTENT"} {
			if setting(getenv, name, "") != "" {
				errs = append(errs, fmt.Errorf("%s is set but WHATSAPP_PROVIDER is not twilio", name))
			}
		}
		return nil, errs
	case WhatsAppProviderTwilio:
	default:
		return nil, []error{fmt.Errorf("WHATSAPP_PROVIDER=%q: want meta or twilio", provider)}
	}
	w := &WhatsAppTwilio{From: strings.TrimPrefix(setting(getenv, "WHATSAPP_FROM", ""), twilio.WhatsAppPrefix)}
	var errs []error
	if tw == nil {
		errs = append(errs, errors.New("WHATSAPP_PROVIDER=twilio needs the Twilio credentials: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set"))
	}
	switch {
	case w.From == "":
		errs = append(errs, errors.New("WHATSAPP_PROVIDER=twilio but WHATSAPP_FROM, the WhatsApp sender (+E.164), is not set"))
	case !strings.HasPrefix(w.From, "+"):
		errs = append(errs, fmt.Errorf("WHATSAPP_FROM=%q: want an E.164 number with +", w.From))
	}
	content, err := parseTwilioContent(setting(getenv, "WHATSAPP_TWILIO_CONTENT", ""))
	if err != nil {
		errs = append(errs, fmt.Errorf("WHATSAPP_TWILIO_CONTENT: %w", err))
	}
	w.Content = content
	return w, errs
}

// parseTwilioContent parses "name:language=HX...,..." into a map keyed by
// twilio.ContentKey.
func parseTwilioContent(s string) (map[string]string, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, errors.New("not set: map each WhatsApp template to its Twilio Content SID, e.g. otp:en_US=HX0123456789abcdef0123456789abcdef")
	}
	m := make(map[string]string, len(items))
	for _, item := range items {
		key, sid, ok := strings.Cut(item, "=")
		name, lang, ok2 := strings.Cut(strings.TrimSpace(key), ":")
		name, lang, sid = strings.TrimSpace(name), strings.TrimSpace(lang), strings.TrimSpace(sid)
		switch {
		case !ok || !ok2 || name == "" || lang == "":
			return nil, fmt.Errorf("%q: want template:language=HX...", item)
		case !twilio.ValidContentSID(sid):
			return nil, fmt.Errorf("%q: %q is not a Content SID (HX and 32 hex digits)", item, sid)
		}
		k := twilio.ContentKey(name, lang)
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s is mapped twice", k)
		}
		m[k] = sid
	}
	return m, nil
}

// readBusinessNumber reads WHATSAPP_BUSINESS_NUMBER: "" when unset, else
// an E.164 number.
func readBusinessNumber(getenv func(string) string) (string, []error) {
	n := setting(getenv, "WHATSAPP_BUSINESS_NUMBER", "")
	if n == "" {
		return "", nil
	}
	if err := phone.Check(n); err != nil {
		return "", []error{fmt.Errorf("WHATSAPP_BUSINESS_NUMBER: %w", err)}
	}
	return n, nil
}
