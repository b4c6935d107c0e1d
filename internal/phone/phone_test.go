package phone

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string // want "" means rejected
	}{
		{"+16505551234", "+16505551234"},
		{"16505551234", "+16505551234"},
		{"+1 (650) 555-1234", "+16505551234"},
		{" +44 20 7946 0958 ", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+49.30.901820", "+4930901820"},
		{"+6834002", "+6834002"},
		{"+1-650-555-1234\n", "+16505551234"},
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
		{"+٦٥٠٥٥٥١٢٣٤", ""},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, ErrInvalid):
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.want != "" && Check(got) != nil:
			t.Errorf("Check(Normalize(%q)) = %v; the two rules differ", tt.in, Check(got))
		}
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []string{"+15551234567", "+4915112345678", "+6834002", "+123456789012345"} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "+", "16505550199", "+1 650 555 0199", "+0123456789", "+1650", "+123456",
		"+1234567890123456", "+1650555019a", "whatsapp:+16505550199"} {
		err := Check(bad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", bad, err)
			continue
		}
		detail := strings.TrimPrefix(err.Error(), ErrInvalid.Error()) // past the example number
		if digits := strings.Trim(bad, "+ whatsap:"); len(digits) > 3 && strings.Contains(detail, digits) {
			t.Errorf("Check(%q) = %q: the error quotes the number", bad, err)
		}
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"+5511987654321", []string{"+551187654321"}}, // Brazil, with the ninth digit
		{"+551187654321", []string{"+5511987654321"}}, // Brazil, without it
		{"+551132654321", nil},                        // Brazil, a landline
		{"+5215512345678", []string{"+525512345678"}}, // Mexico, with the 1
		{"+525512345678", []string{"+5215512345678"}}, // Mexico, without it
		{"+16505551234", nil},
		{"+55", nil},
		{"+5511", nil},
	}
	for _, tt := range tests {
		got := Variants(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Variants(%q) = %v, want %v", tt.in, got, tt.want)
		}
		for _, v := range got {
			if err := Check(v); err != nil {
				t.Errorf("Variants(%q) gave %q: %v", tt.in, v, err)
			}
			if back := Variants(v); !slices.Contains(back, tt.in) {
				t.Errorf("Variants(%q) = %v, which does not lead back to %q", v, back, tt.in)
			}
		}
	}
}
