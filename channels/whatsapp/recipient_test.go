package whatsapp

import (
	"errors"
	"testing"
)

// TestNormalizeRecipient checks the WhatsApp form of the project's rule
// (internal/phone tests the rule itself): digits without "+", and
// ErrInvalidRecipient for what the rule refuses.
func TestNormalizeRecipient(t *testing.T) {
	if got, err := NormalizeRecipient("+1 (650) 555-1234"); err != nil || got != "16505551234" {
		t.Errorf("NormalizeRecipient of a formatted number = %q, %v; want 16505551234", got, err)
	}
	if got, err := NormalizeRecipient("6834002"); err != nil || got != "6834002" {
		t.Errorf("NormalizeRecipient of a WhatsApp ID = %q, %v; want 6834002", got, err)
	}
	if got, err := NormalizeRecipient("(650) 555-1234"); !errors.Is(err, ErrInvalidRecipient) {
		t.Errorf("NormalizeRecipient of a national number = %q, %v; want ErrInvalidRecipient", got, err)
	}
}
