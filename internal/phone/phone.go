// Package phone holds Switchback's one rule for phone numbers: E.164, a
// "+", then MinDigits to MaxDigits digits (country code first, so never a
// leading 0). Journeys check their recipients with it, the channels
// normalise what they send to and what they receive from with it, and
// inbound WhatsApp senders are matched to contacts with Variants.
//
// Errors never quote the number: they say what is wrong with it, so that
// they can be logged and recorded.
package phone

import (
	"errors"
	"fmt"
	"strings"
)

// Digit bounds of an E.164 number, country code included. The shortest
// numbers in use have 7 digits (Niue, +683 4002); E.164 allows 15.
const (
	MinDigits = 7
	MaxDigits = 15
)

// ErrInvalid is wrapped by every error of Check and Normalize.
var ErrInvalid = errors.New("not an E.164 phone number (e.g. +15551234567)")

// Check reports whether number is in the E.164 form Switchback keeps: a
// "+", then MinDigits to MaxDigits digits, the first not 0, and nothing
// else.
func Check(number string) error {
	d, ok := strings.CutPrefix(number, "+")
	if !ok {
		return fmt.Errorf("%w: no + and country code in front", ErrInvalid)
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q after the +, where only digits may be", ErrInvalid, c)
		}
	}
	return checkDigits(d)
}

// checkDigits checks the digits of an E.164 number.
func checkDigits(d string) error {
	switch {
	case strings.HasPrefix(d, "0"):
		return fmt.Errorf("%w: no country code (a leading 0)", ErrInvalid)
	case len(d) < MinDigits || len(d) > MaxDigits:
		return fmt.Errorf("%w: %d digits, want %d to %d", ErrInvalid, len(d), MinDigits, MaxDigits)
	}
	return nil
}

// Normalize returns the E.164 form ("+" and digits) of a number written
// loosely: "+1 (650) 555-1234", "00 1 650 555 1234" and "16505551234" (a
// WhatsApp ID) all give "+16505551234". Spaces, dots, dashes and
// parentheses are allowed after a "+" or "00" international prefix;
// without one only bare digits are taken, since "(650) 555-1234" is in
// national form and its country is unknown. The result passes Check.
func Normalize(number string) (string, error) {
	s := strings.TrimSpace(number)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalid)
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
			return "", fmt.Errorf("%w: %q is not a digit, space, dot, dash or parenthesis", ErrInvalid, c)
		}
	}
	d := b.String()
	if !plus {
		var intl bool
		d, intl = strings.CutPrefix(d, "00")
		if formatted && !intl {
			return "", fmt.Errorf("%w: national form: add + and the country code", ErrInvalid)
		}
	}
	if err := checkDigits(d); err != nil {
		return "", err
	}
	return "+" + d, nil
}

// Variants returns the other E.164 forms under which WhatsApp may know
// the subscriber of number (itself in E.164 form), most likely first; nil
// for most numbers. A WhatsApp ID can differ from the number a business
// sends to:
//
//   - Brazil (+55): mobile numbers gained a ninth digit, a 9 after the
//     two-digit area code, and older WhatsApp IDs lack it, so
//     +55 11 9xxxx-xxxx and +55 11 xxxx-xxxx are the same subscriber;
//   - Mexico (+52): mobile numbers were dialled from abroad with a 1
//     after the country code, and WhatsApp IDs may keep it, so
//     +52 1 55 xxxx xxxx and +52 55 xxxx xxxx are the same subscriber.
func Variants(number string) []string {
	switch {
	case strings.HasPrefix(number, "+55"):
		area, local := number[3:min(5, len(number))], number[min(5, len(number)):]
		switch {
		case len(local) == 9 && local[0] == '9':
			return []string{"+55" + area + local[1:]}
		case len(local) == 8 && local[0] >= '6':
			return []string{"+55" + area + "9" + local}
		}
	case strings.HasPrefix(number, "+52"):
		rest := number[3:]
		switch {
		case len(rest) == 11 && rest[0] == '1':
			return []string{"+52" + rest[1:]}
		case len(rest) == 10:
			return []string{"+521" + rest}
		}
	}
	return nil
}
