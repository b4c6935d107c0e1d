package whatsapp

import (
	"strings"

	"github.com/switchbackhq/switchback/internal/phone"
)

// ErrInvalidRecipient is wrapped by NormalizeRecipient's errors.
var ErrInvalidRecipient = phone.ErrInvalid

// NormalizeRecipient returns the E.164 digits of number, the country code
// and number with no "+": "+1 (650) 555-1234", "00 1 650 555 1234" and
// "16505551234" all give "16505551234". It applies the project's one
// phone number rule, phone.Normalize, which says what is accepted.
func NormalizeRecipient(number string) (string, error) {
	e164, err := phone.Normalize(number)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(e164, "+"), nil
}
