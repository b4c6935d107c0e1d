package app_test

import (
	"testing"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
)

// The WhatsApp sandbox comes with a business number for wa_link; a
// configured number, or a real WhatsApp, is left as it is.
func TestUseSandboxBusinessNumber(t *testing.T) {
	cfg, _, _ := app.UseSandbox(config.Config{HTTPAddr: "127.0.0.1:8080"})
	if cfg.WhatsAppBusinessNumber != app.SandboxBusinessNumber {
		t.Errorf("sandbox business number = %q, want %s", cfg.WhatsAppBusinessNumber, app.SandboxBusinessNumber)
	}
	cfg, _, _ = app.UseSandbox(config.Config{HTTPAddr: "127.0.0.1:8080", WhatsAppBusinessNumber: "+15017122661"})
	if cfg.WhatsAppBusinessNumber != "+15017122661" {
		t.Errorf("configured business number became %q", cfg.WhatsAppBusinessNumber)
	}
	cfg, _, _ = app.UseSandbox(config.Config{HTTPAddr: "127.0.0.1:8080", WhatsApp: &config.WhatsApp{AccessToken: "t"}})
	if cfg.WhatsAppBusinessNumber != "" {
		t.Errorf("real WhatsApp got the sandbox's business number %q", cfg.WhatsAppBusinessNumber)
	}
}
