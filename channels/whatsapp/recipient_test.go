package whatsapp

import (
	"errors"
	"testing"
)

func TestNormalizeRecipient(t *testing.T) {
	tests := []struct {
		in, want string // want "" means rejected
	}{
		{"+16505551234", "16505551234"},
		{"16505551234", "16505551234"},
		{"+1 (650) 555-1234", "16505551234"},
		{" +44 20 7946 0958 ", "442079460958"},
		{"0044 20 7946 0958", "442079460958"},
		{"+49.30.901820", "4930901820"},
		{"+6834002", "6834002"},
		{"", ""},
		{"+", ""},
		{"ana@example.com", ""},
		{"whatsapp:+16505551234", ""},
		{"+1 650 555 1234 ext 5", ""},
		{"(650) 555-1234", ""},
		{"650 555 1234", ""},
		{"020 7946 0958", ""},
		{"+123456", ""},
		{"+1234567890123456", ""},
		{"+1-650-555-1234\n", "16505551234"},
		{"+٦٥٠٥٥٥١٢٣٤", ""},
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
