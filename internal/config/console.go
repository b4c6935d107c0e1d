package config

import "fmt"

// Console configures the web console served under /console.
type Console struct {
	// Token is the login token of the console (SWITCHBACK_CONSOLE_TOKEN).
	// Empty: the console answers 503, except in `dev` on loopback.
	Token string
	// UserHeader names a request header that an SSO proxy in front of
	// Switchback sets to the signed-in user (SWITCHBACK_CONSOLE_USER_HEADER).
	// A request carrying it needs no login: set it only when every request
	// passes that proxy, which must strip the header from its callers.
	UserHeader string
	// TemporalUIURL is the base URL of the Temporal Web UI that journey
	// pages link to (SWITCHBACK_TEMPORAL_UI_URL). Empty: no link.
	TemporalUIURL string
}

// readConsole reads the console's variables.
func readConsole(get func(name, def string) string) (Console, []error) {
	c := Console{
		Token:         get("SWITCHBACK_CONSOLE_TOKEN", ""),
		UserHeader:    get("SWITCHBACK_CONSOLE_USER_HEADER", ""),
		TemporalUIURL: get("SWITCHBACK_TEMPORAL_UI_URL", ""),
	}
	if c.TemporalUIURL == "" {
		return c, nil
	}
	if err := checkURL(c.TemporalUIURL); err != nil {
		return c, []error{fmt.Errorf("SWITCHBACK_TEMPORAL_UI_URL: %w", err)}
	}
	return c, nil
}
