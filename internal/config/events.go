package config

import (
	"errors"
	"fmt"

	"github.com/switchbackhq/switchback/internal/stdwebhook"
)

// readEvents reads SWITCHBACK_EVENTS_URL and SWITCHBACK_WEBHOOK_SECRET
// into c: the event stream needs an absolute http(s) URL and the secret
// that signs its requests.
func readEvents(getenv func(string) string, c *Config) []error {
	c.EventsURL = setting(getenv, "SWITCHBACK_EVENTS_URL", "")
	c.WebhookSecret = setting(getenv, "SWITCHBACK_WEBHOOK_SECRET", "")
	var errs []error
	if c.EventsURL != "" {
		if err := checkURL(c.EventsURL); err != nil {
			errs = append(errs, fmt.Errorf("SWITCHBACK_EVENTS_URL: %w", err))
		}
		if c.WebhookSecret == "" {
			errs = append(errs, errors.New("SWITCHBACK_EVENTS_URL is set but SWITCHBACK_WEBHOOK_SECRET is not: set it to whsec_ and a base64 key of at least 24 bytes, which signs the events"))
		}
	}
	if c.WebhookSecret != "" {
		if _, err := stdwebhook.NewSigner(c.WebhookSecret); err != nil {
			errs = append(errs, fmt.Errorf("SWITCHBACK_WEBHOOK_SECRET: %w", err))
		}
	}
	return errs
}
