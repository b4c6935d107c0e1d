package whatsapp

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRecipient is wrapped by NormalizeRecipient's errors.
var ErrInvalidRecipient = errors.New("not a phone number in international form")

// NormalizeRecipient returns the E.164 digits of phone, the country code
// and number with no "+", spaces or symbols: "+1 (650) 555-1234",
// "00 1 650 555 1234" and "16505551234" all give "16505551234". Spaces,
// dots, dashes and parentheses are allowed after a "+" or "00"
// international prefix; without one, only bare digits (a WhatsApp ID) are
// taken, since "(650) 555-1234" is in national form and its country is
// unknown. Anything else, a leading 0, and fewer than 7 or more than 15
// digits are rejected.
func NormalizeRecipient(phone string) (string, error) {
	s := strings.TrimSpace(phone)
	if s == "" {
		return "", fmt.Errorf("recipient is empty: %w", ErrInvalidRecipient)
	}
	s, plus := strings.CutPrefix(s, "+")
	var b strings.Builder
	formatted := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
			formatted = true
		default:
			return "", fmt.Errorf("recipient %q has %q: %w", phone, c, ErrInvalidRecipient)
		}
	}
	d := b.String()
	if !plus {
		var intl bool
		d, intl = strings.CutPrefix(d, "00")
		if formatted && !intl {
			return "", fmt.Errorf("recipient %q is in national form: add + and the country code: %w", phone, ErrInvalidRecipient)
		}
	}
	switch {
	case strings.HasPrefix(d, "0"):
		return "", fmt.Errorf("recipient %q has no country code: %w", phone, ErrInvalidRecipient)
	case len(d) < 7 || len(d) > 15:
		return "", fmt.Errorf("recipient %q has %d digits, want 7 to 15: %w", phone, len(d), ErrInvalidRecipient)
	}
	return d, nil
}
