package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/channels/email"
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

// RateLimits are the activity rates, in sends per second, of each
// channel's task queue, enforced by Temporal across all workers
// (SWITCHBACK_RATE_WHATSAPP, SWITCHBACK_RATE_SMS, SWITCHBACK_RATE_EMAIL).
// Zero means no limit.
type RateLimits struct {
	WhatsApp, SMS, Email float64
}

// Default rates: Cloud API throughput per business number; one SMS per
// second from a single Twilio long code, more through a Messaging
// Service's sender pool; a conservative share of SendGrid's limit.
const (
	DefaultRateWhatsApp       = 80
	DefaultRateSMS            = 1
	DefaultRateSMSWithService = 10
	DefaultRateEmail          = 100
	DefaultSendGridAPIURL     = email.DefaultAPIURL
)

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

// readRateLimits reads the SWITCHBACK_RATE_* variables; the SMS default
// depends on whether a Messaging Service sends.
func readRateLimits(getenv func(string) string, twilio *Twilio) (RateLimits, []error) {
	smsDefault := float64(DefaultRateSMS)
	if twilio != nil && twilio.MessagingServiceSID != "" {
		smsDefault = DefaultRateSMSWithService
	}
	var errs []error
	rate := func(name string, def float64) float64 {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 {
			errs = append(errs, errors.New(name+": want a number of sends per second, 0 for no limit"))
			return def
		}
		return r
	}
	return RateLimits{
		WhatsApp: rate("SWITCHBACK_RATE_WHATSAPP", DefaultRateWhatsApp),
		SMS:      rate("SWITCHBACK_RATE_SMS", smsDefault),
		Email:    rate("SWITCHBACK_RATE_EMAIL", DefaultRateEmail),
	}, errs
}
