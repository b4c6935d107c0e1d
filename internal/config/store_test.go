package config

import (
	"slices"
	"strings"
	"testing"
)

func TestFromEnvStoreSettings(t *testing.T) {
	tests := []struct {
		name             string
		vars             map[string]string
		wantURL          string
		wantOut, wantIn  []string
		wantErrSubstring string
	}{
		{name: "defaults"},
		{name: "postgres", vars: map[string]string{"SWITCHBACK_DATABASE_URL": "postgres://sb@db:5432/sb"}, wantURL: "postgres://sb@db:5432/sb"},
		{name: "postgresql scheme", vars: map[string]string{"SWITCHBACK_DATABASE_URL": "postgresql://db/sb"}, wantURL: "postgresql://db/sb"},
		{name: "not postgres", vars: map[string]string{"SWITCHBACK_DATABASE_URL": "mysql://db/sb"}, wantErrSubstring: "SWITCHBACK_DATABASE_URL"},
		{
			name:    "keywords",
			vars:    map[string]string{"SWITCHBACK_OPT_OUT_KEYWORDS": " STOP, parar ,,", "SWITCHBACK_OPT_IN_KEYWORDS": "START"},
			wantOut: []string{"STOP", "parar"}, wantIn: []string{"START"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(env(tt.vars))
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabaseURL != tt.wantURL || !slices.Equal(c.OptOutKeywords, tt.wantOut) || !slices.Equal(c.OptInKeywords, tt.wantIn) {
				t.Errorf("got url %q, opt-out %q, opt-in %q; want %q, %q, %q",
					c.DatabaseURL, c.OptOutKeywords, c.OptInKeywords, tt.wantURL, tt.wantOut, tt.wantIn)
			}
		})
	}
}
