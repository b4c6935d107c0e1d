package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/activities"
)

// The settings of the WhatsApp messaging limits and the quality guard.
const (
	tierSetting        = "SWITCHBACK_WHATSAPP_TIER"
	warmupSetting      = "SWITCHBACK_WHATSAPP_WARMUP"
	warmupStartSetting = "SWITCHBACK_WHATSAPP_WARMUP_START"
	guardSendsSetting  = "SWITCHBACK_GUARD_SENDS"
	guardRateSetting   = "SWITCHBACK_GUARD_FAILURE_RATE"
)

// readLimits reads the messaging-limit settings: SWITCHBACK_WHATSAPP_TIER
// (a tier, or a number), SWITCHBACK_WHATSAPP_WARMUP (comma-separated
// recipients a day, e.g. 250,1000,2000) and
// SWITCHBACK_WHATSAPP_WARMUP_START (its first day, YYYY-MM-DD, UTC;
// required with a warm-up). The limits are always in force: with nothing
// set, the tier Meta reports caps.
func readLimits(getenv func(string) string) (*activities.MessagingLimits, []error) {
	var errs []error
	m := &activities.MessagingLimits{Tier: setting(getenv, tierSetting, "")}
	if _, _, err := activities.TierLimit(m.Tier); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", tierSetting, err))
	}
	var err error
	if m.Warmup, err = ParseWarmup(setting(getenv, warmupSetting, "")); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", warmupSetting, err))
	}
	start := setting(getenv, warmupStartSetting, "")
	switch {
	case start != "":
		if m.WarmupStart, err = time.Parse(time.DateOnly, start); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a date, YYYY-MM-DD", warmupStartSetting, start))
		}
	case len(m.Warmup) > 0:
		errs = append(errs, fmt.Errorf("%s: set %s too, the warm-up's first day (YYYY-MM-DD)", warmupSetting, warmupStartSetting))
	}
	return m, errs
}

// ParseWarmup parses a warm-up schedule: comma-separated numbers of
// recipients, one a day, e.g. "250,1000,2000". Empty: none.
func ParseWarmup(s string) ([]int, error) {
	var out []int
	for _, item := range list(s) {
		n, err := strconv.Atoi(strings.TrimSpace(item))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want recipients a day, comma-separated, e.g. 250,1000,2000", item)
		}
		out = append(out, n)
	}
	return out, nil
}

// readGuard reads the quality guard's settings: SWITCHBACK_GUARD_SENDS (N,
// the newest sends looked at) and SWITCHBACK_GUARD_FAILURE_RATE (a share,
// 0.1, or a percentage, 10%); unset: the defaults.
func readGuard(getenv func(string) string) (activities.QualityGuard, []error) {
	var g activities.QualityGuard
	var errs []error
	if v := setting(getenv, guardSendsSetting, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s=%q: want a number of sends, 1 or more", guardSendsSetting, v))
		}
		g.Sends = n
	}
	if v := setting(getenv, guardRateSetting, ""); v != "" {
		num, pct := strings.CutSuffix(v, "%")
		r, err := strconv.ParseFloat(num, 64)
		if pct {
			r /= 100
		}
		if err != nil || r <= 0 || r >= 1 {
			errs = append(errs, fmt.Errorf("%s=%q: want a share above 0 and below 1 (0.1) or a percentage (10%%)", guardRateSetting, v))
		}
		g.FailureRate = r
	}
	return g, errs
}
