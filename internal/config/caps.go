package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// capsSetting is the setting of the frequency caps.
const capsSetting = "SWITCHBACK_FREQUENCY_CAPS"

// readCaps reads SWITCHBACK_FREQUENCY_CAPS: nil when unset.
func readCaps(getenv func(string) string) (activities.FrequencyCaps, []error) {
	v := setting(getenv, capsSetting, "")
	if v == "" {
		return nil, nil
	}
	caps, err := ParseFrequencyCaps(v)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", capsSetting, err)}
	}
	return caps, nil
}

// ParseFrequencyCaps parses comma-separated caps of the form
// purpose:channel=sends/window, e.g. "marketing:whatsapp=2/7d,
// marketing:*=3/7d": purpose is authentication, utility or marketing;
// channel is a channel's name (the worker checks it is one it knows) or
// * (every channel without a cap of its own, each counted apart); window is a number of days ("7d") or a
// Go duration ("12h").
func ParseFrequencyCaps(s string) (activities.FrequencyCaps, error) {
	var caps activities.FrequencyCaps
	seen := map[string]bool{}
	for _, item := range list(s) {
		c, err := parseCap(item)
		if err != nil {
			return nil, fmt.Errorf("cap %q: %w", item, err)
		}
		k := string(c.Purpose) + ":" + string(c.Channel)
		if seen[k] {
			return nil, fmt.Errorf("cap %q: a second cap of the same purpose and channel", item)
		}
		seen[k] = true
		caps = append(caps, c)
	}
	return caps, nil
}

func parseCap(item string) (activities.FrequencyCap, error) {
	var c activities.FrequencyCap
	scope, limit, ok := strings.Cut(item, "=")
	purpose, ch, ok2 := strings.Cut(scope, ":")
	sends, window, ok3 := strings.Cut(limit, "/")
	if !ok || !ok2 || !ok3 {
		return c, fmt.Errorf("want purpose:channel=sends/window, e.g. marketing:whatsapp=2/7d")
	}
	switch p := journeys.Purpose(strings.TrimSpace(purpose)); p {
	case journeys.Authentication, journeys.Utility, journeys.Marketing:
		c.Purpose = p
	default:
		return c, fmt.Errorf("purpose %q: want authentication, utility or marketing", purpose)
	}
	switch ch := channels.Channel(strings.TrimSpace(ch)); {
	case ch == "*":
	case ch.Valid():
		c.Channel = ch
	default:
		return c, fmt.Errorf("channel %q: want a channel's name (whatsapp, sms, email, ...) or *", ch)
	}
	n, err := strconv.Atoi(strings.TrimSpace(sends))
	if err != nil || n < 0 {
		return c, fmt.Errorf("sends %q: want a whole number, 0 or more", sends)
	}
	w, err := ParseWindow(strings.TrimSpace(window))
	if err != nil {
		return c, err
	}
	c.Limit = store.CapLimit{Sends: n, Window: w}
	return c, nil
}

// ParseWindow parses a number of days ("7d") or a Go duration ("12h").
func ParseWindow(s string) (time.Duration, error) {
	var w time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		w = time.Duration(n) * 24 * time.Hour
	} else {
		w, err = time.ParseDuration(s)
	}
	if err != nil || w <= 0 {
		return 0, fmt.Errorf("window %q: want a positive number of days (7d) or a duration (12h)", s)
	}
	return w, nil
}
