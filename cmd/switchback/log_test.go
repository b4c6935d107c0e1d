package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/internal/config"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name   string
		logger func(*env, config.Config) *slog.Logger
		format string
		level  slog.Level
		want   string // how the info line starts; "" when it is dropped
	}{
		{"worker default", newLogger, "", slog.LevelInfo, `{"time":`},
		{"dev default", newDevLogger, "", slog.LevelInfo, "time="},
		{"worker text", newLogger, "text", slog.LevelInfo, "time="},
		{"dev json", newDevLogger, "json", slog.LevelInfo, `{"time":`},
		{"warn level", newLogger, "", slog.LevelWarn, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			e := &env{stdout: &bytes.Buffer{}, stderr: &out, getenv: func(string) string { return "" }}
			l := tt.logger(e, config.Config{LogFormat: tt.format, LogLevel: tt.level})
			l.Debug("debug line")
			l.Info("sent", "to", "+15551234567", "auth_token", "s3cr3t-t0ken")
			got := out.String()
			if tt.want == "" {
				if got != "" {
					t.Errorf("logged %q, want nothing below %v", got, tt.level)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("logged %q, want one line starting %q", got, tt.want)
			}
			if strings.Contains(got, "+15551234567") || strings.Contains(got, "s3cr3t-t0ken") || !strings.Contains(got, "+1555•••••67") {
				t.Errorf("logged %q, want the number masked and the token redacted", got)
			}
		})
	}
}

// The Temporal SDK's lines go through the same masking logger, one level
// down.
func TestSDKLoggerMasks(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &out, getenv: func(string) string { return "" }}
	l := sdkLogger(newLogger(e, config.Config{LogLevel: slog.LevelDebug}))
	l.Info("Activity error.", "Error", "The 'To' number +15551234567 is not a valid phone number")
	if got := out.String(); !strings.Contains(got, `"level":"DEBUG"`) || !strings.Contains(got, "+1555•••••67") || strings.Contains(got, "+15551234567") {
		t.Errorf("logged %q", got)
	}
}
