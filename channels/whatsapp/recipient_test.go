package whatsapp

import (
	"errors"
	"testing"
)

// TestNormalizeRecipient checks the WhatsApp form of the project's rule
// (internal/phone tests the rule itself): digits without "+".
func TestNormalizeRecipient(t *testing.T) {
	tests := []struct {
		in, want string // want "" means rejected
	}{
		{"+1 (650) 555-1234", "16505551234"},
		{"16505551234", "16505551234"},
		{"+6834002", "6834002"},
		{"(650) 555-1234", ""},
		{"+1234567890123456", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeRecipient(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, ErrInvalidRecipient):
			t.Errorf("NormalizeRecipient(%q) = %q, %v; want ErrInvalidRecipient", tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("NormalizeRecipient(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
