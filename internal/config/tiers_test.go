package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLimitsAndGuardSettings(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := FromEnv(env(map[string]string{
		"SWITCHBACK_WHATSAPP_TIER": "TIER_2K", "SWITCHBACK_WHATSAPP_WARMUP": "250, 1000,2000",
		"SWITCHBACK_WHATSAPP_WARMUP_START": "2026-12-01", "SWITCHBACK_GUARD_SENDS": "500", "SWITCHBACK_GUARD_FAILURE_RATE": "5%",
	}))
	if err != nil {
		t.Fatal(err)
	}
	m := c.MessagingLimits
	if m.Tier != "TIER_2K" || !slices.Equal(m.Warmup, []int{250, 1000, 2000}) || !m.WarmupStart.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("limits = %+v", m)
	}
	if c.Guard.Sends != 500 || c.Guard.FailureRate != 0.05 {
		t.Errorf("guard = %+v", c.Guard)
	}
	c, err = FromEnv(env(nil))
	if err != nil || c.MessagingLimits == nil || c.MessagingLimits.Tier != "" || c.Guard.Sends != 0 {
		t.Errorf("unset: %+v, %+v, %v; want the reported tier and the guard's defaults", c.MessagingLimits, c.Guard, err)
	}
	for _, bad := range []map[string]string{
		{"SWITCHBACK_WHATSAPP_TIER": "TIER_3K"},
		{"SWITCHBACK_WHATSAPP_WARMUP": "250,lots", "SWITCHBACK_WHATSAPP_WARMUP_START": "2026-12-01"},
		{"SWITCHBACK_WHATSAPP_WARMUP": "250"},
		{"SWITCHBACK_WHATSAPP_WARMUP": "250", "SWITCHBACK_WHATSAPP_WARMUP_START": "tomorrow"},
		{"SWITCHBACK_GUARD_SENDS": "0"},
		{"SWITCHBACK_GUARD_FAILURE_RATE": "1.5"},
	} {
		_, err := FromEnv(env(bad))
		for k := range bad {
			if err == nil || !strings.Contains(err.Error(), "SWITCHBACK_") {
				t.Errorf("%v: %v, want an error naming the setting (%s)", bad, err, k)
			}
		}
	}
}
