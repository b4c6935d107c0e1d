package logging

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// FuzzMask checks that a phone number or an email address, in any of the
// forms Mask knows, is hidden whatever text surrounds it, and that masking
// any text never panics and, done twice, changes nothing the first time did
// not.
func FuzzMask(f *testing.F) {
	f.Add("sending to", "now", uint64(15551234567), uint8(0), "jane.doe")
	f.Add(`{"to":"`, `","text":"hi"}`, uint64(4412345), uint8(2), "josé")
	f.Add("To=", "&Body=Your+code+is+493817", uint64(447700900123), uint8(5), "用户")
	f.Add("error 131026:", "token=[abc] 1741964966123", uint64(9), uint8(6), "Ärger")
	f.Add("run 12345678-1234-4abc-8def-123456789012", "3.14159265358 +1 (555)", uint64(1<<63), uint8(7), "a")
	f.Fuzz(func(t *testing.T, before, after string, n uint64, form uint8, local string) {
		for _, s := range []string{before, after} {
			checkIdempotent(t, s)
		}
		number := fuzzNumber(n)
		written := phoneForms(number)[int(form)%len(phoneForms(number))]
		email := fuzzEmail(local, form)
		for _, pii := range []string{written, number, email} {
			if strings.Contains(before, pii) || strings.Contains(after, pii) {
				return // the surrounding text has it too
			}
		}
		in := before + " " + written + " " + email + " " + after
		out := checkIdempotent(t, in)
		for _, pii := range []string{written, number, email} {
			if strings.Contains(out, pii) {
				t.Errorf("Mask(%q) = %q, which has %q", in, out, pii)
			}
		}
	})
}

// checkIdempotent masks s, checks that masking the result changes nothing,
// and returns the result.
func checkIdempotent(t *testing.T, s string) string {
	t.Helper()
	once := Mask(s)
	if twice := Mask(once); twice != once {
		t.Errorf("Mask(%q) = %q, and masked again %q", s, once, twice)
	}
	return once
}

// fuzzNumber returns a phone number's digits made from n: 7 to 15 digits,
// the first 2 to 9.
func fuzzNumber(n uint64) string {
	d := []byte(strconv.FormatUint(n, 10) + strings.Repeat("0", maxDigits))
	d = d[:minDigits+int(n%(maxDigits-minDigits+1))]
	d[0] = '2' + byte(n%8)
	return string(d)
}

// phoneForms returns the forms in which d, a number's digits, is found in
// text.
func phoneForms(d string) []string {
	return []string{
		"+" + d,
		d,
		"%2B" + d,
		"%2b" + d,
		"whatsapp:+" + d,
		"00" + d,
		"+" + d[:2] + " " + d[2:5] + " " + d[5:],
		"+" + d[:1] + "-" + d[1:4] + "-" + d[4:],
	}
}

// fuzzEmail returns an email address whose local part is made of the
// letters and digits of local, starting with a letter, in a domain chosen
// by form.
func fuzzEmail(local string, form uint8) string {
	domains := []string{"example.com", "bücher.example.de", "例子.广告", "пример.рф", "example.xn--p1ai"}
	kept := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, local)
	if r := []rune(kept); len(r) == 0 || !unicode.IsLetter(r[0]) {
		kept = "j" + kept
	}
	return kept + "@" + domains[int(form)%len(domains)]
}
