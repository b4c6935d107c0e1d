package app_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/logging"
	"github.com/switchbackhq/switchback/sandbox"
)

// lockedBuffer is a bytes.Buffer safe for the stack's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A whole OTP journey that falls back from WhatsApp to SMS to email logs,
// through the masking logger, neither the customer's number nor their
// address nor any of the providers' credentials.
func TestJourneyLogsAreMasked(t *testing.T) {
	var out lockedBuffer
	s := apptest.StartWith(t, apptest.Options{
		Logger: logging.New(&out, logging.Options{Format: logging.FormatJSON, Level: slog.LevelDebug}),
	})
	const (
		to    = sandbox.Unreachable // WhatsApp failed, SMS undelivered
		email = "customer.one@example.com"
	)
	res := s.RunOTPWithEmail(t, to, email).Result
	if res.Channel != channels.Email {
		t.Fatalf("result = %+v, want delivered by email after WhatsApp and SMS failed", res)
	}
	// A send the provider refuses, whose error names the number.
	s.RunOTP(t, sandbox.SMSInvalid)

	logs := out.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) < 2 {
		t.Fatalf("want the journeys' logs, got %q", logs)
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON line: %q", line)
		}
	}
	// The SDK logs the refused send's error, which names the number.
	if masked := "+1555•••••06"; !strings.Contains(logs, masked) {
		t.Errorf("the logs lack the refused number masked, %q", masked)
	}
	cfg := s.Config
	never := map[string]string{
		"number":                 to,
		"bare number":            strings.TrimPrefix(to, "+"),
		"refused number":         strings.TrimPrefix(sandbox.SMSInvalid, "+"),
		"email":                  email,
		"WhatsApp access token":  cfg.WhatsApp.AccessToken,
		"WhatsApp app secret":    cfg.WhatsApp.AppSecret,
		"WhatsApp verify token":  cfg.WhatsApp.VerifyToken,
		"Twilio auth token":      cfg.Twilio.AuthToken,
		"SendGrid API key":       s.SandboxConfig.SendGridAPIKey,
		"contact key":            string(cfg.ContactKeyOrDefault()),
		"sandbox Twilio token":   s.SandboxConfig.TwilioAuthToken,
		"sandbox WhatsApp token": s.SandboxConfig.AccessToken,
	}
	for what, v := range never {
		if v == "" {
			t.Errorf("%s is empty: the test checks nothing", what)
			continue
		}
		if strings.Contains(logs, v) {
			t.Errorf("the logs hold the %s %q", what, v)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}
