package logging

import (
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret.
const Redacted = "[redacted]"

// hidden replaces each hidden character of a phone number or address.
const hidden = "•"

// Mask returns s with the phone numbers and email addresses it contains
// masked and the secrets it carries in values (Bearer and Basic credentials,
// URL passwords, name=value pairs and JSON members named like secrets)
// redacted. Text without any of them is returned unchanged.
func Mask(s string) string {
	if !mayHoldPII(s) {
		return s
	}
	s = redactValues(s)
	s = maskEmails(s)
	return maskPhones(s)
}

// mayHoldPII reports whether s has a character that every masked form
// needs, so that plain text is passed through after one scan.
func mayHoldPII(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+', c == '@', c == '=', c == '"', c == '/':
			return true
		case isDigit(c):
			// National numbers have 10 digits.
			if digits++; digits >= 10 {
				return true
			}
		}
	}
	return hasScheme(s)
}

// redactValues redacts the secrets that s carries in values.
func redactValues(s string) string {
	if strings.ContainsAny(s, "=\"") {
		s = redactPairs(s)
	}
	if strings.Contains(s, "://") {
		s = redactURLPasswords(s)
	}
	if hasScheme(s) {
		s = redactSchemes(s)
	}
	return s
}

// hasScheme reports whether s has "bearer " (any case) or "Basic ".
func hasScheme(s string) bool {
	for i := strings.IndexByte(s, ' '); i >= 0; {
		if i >= 6 && hasFoldPrefix(s[i-6:], "bearer") || i >= 5 && s[i-5:i] == "Basic" {
			return true
		}
		k := strings.IndexByte(s[i+1:], ' ')
		if k < 0 {
			break
		}
		i += k + 1
	}
	return false
}

// redactPairs redacts the value of each name=value pair and each JSON
// member "name": value whose name names a secret.
func redactPairs(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' && c != ':' {
			continue
		}
		// The name before the separator; a JSON name is quoted and only
		// then does ':' separate.
		end := i
		quoted := end > 0 && s[end-1] == '"'
		if quoted {
			end--
		} else if c == ':' {
			continue
		}
		start := end
		for start > 0 && isNameByte(s[start-1]) {
			start--
		}
		if start == end || quoted && (start == 0 || s[start-1] != '"') || !SecretKey(s[start:end]) {
			continue
		}
		vs, ve := valueSpan(s, i+1)
		if vs == ve || s[vs:ve] == Redacted {
			continue
		}
		b.WriteString(s[last:vs])
		b.WriteString(Redacted)
		last, i = ve, ve-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueSpan returns the bounds of the value that starts at or after i: a
// JSON string's contents, an authorization scheme and its credentials, or
// everything up to a delimiter.
func valueSpan(s string, i int) (start, end int) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		i++
		j := i
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		return i, min(j, len(s))
	}
	j := i
	if hasFoldPrefix(s[j:], "bearer ") || strings.HasPrefix(s[j:], "Basic ") {
		j += strings.IndexByte(s[j:], ' ') + 1
	}
	for j < len(s) && !strings.ContainsRune("&; \t\r\n\"',)]}<>", rune(s[j])) {
		j++
	}
	return i, j
}

// redactURLPasswords replaces the password of each URL's userinfo.
func redactURLPasswords(s string) string {
	var b strings.Builder
	last := 0
	for off := 0; ; {
		k := strings.Index(s[off:], "://")
		if k < 0 {
			break
		}
		start := off + k + 3
		off = start
		// The userinfo ends at '@' before any '/', '?', '#' or space.
		end := start
		for end < len(s) && !strings.ContainsRune("@/?# \t\r\n\"'", rune(s[end])) {
			end++
		}
		if end == len(s) || s[end] != '@' {
			continue
		}
		colon := strings.IndexByte(s[start:end], ':')
		if colon < 0 || s[start+colon+1:end] == Redacted {
			continue
		}
		b.WriteString(s[last : start+colon+1])
		b.WriteString(Redacted)
		last, off = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactSchemes replaces the credentials that follow "Bearer " (any case)
// and "Basic ".
func redactSchemes(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		var n int
		switch {
		case (s[i] == 'b' || s[i] == 'B') && hasFoldPrefix(s[i:], "bearer "):
			n = len("bearer ")
		case s[i] == 'B' && strings.HasPrefix(s[i:], "Basic "):
			n = len("Basic ")
		default:
			continue
		}
		if i > 0 && isAlnum(s[i-1]) {
			continue
		}
		vs := i + n
		ve := vs
		for ve < len(s) && isTokenByte(s[ve]) {
			ve++
		}
		// "Basic" also starts sentences: base64 credentials are not a
		// lower-case word.
		if ve == vs || proseAfterScheme(s[vs:ve]) || n == len("Basic ") && isLower(s[vs]) && isLetters(s[vs:ve]) && strings.ToLower(s[vs:ve]) == s[vs:ve] {
			continue
		}
		b.WriteString(s[last:vs])
		b.WriteString(Redacted)
		last, i = ve, ve-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// proseAfterScheme reports whether w is a word that follows "bearer" or
// "basic" in prose ("missing bearer token") rather than in a header.
func proseAfterScheme(w string) bool {
	switch strings.ToLower(w) {
	case "token", "tokens", "auth", "authentication", "authorization", "credentials", "header", "scheme":
		return true
	}
	return false
}

// maskEmails masks each email address in s.
func maskEmails(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		ls := i
		for ls > last && isLocalByte(s[ls-1]) {
			ls--
		}
		de := i + 1
		for de < len(s) && (isAlnum(s[de]) || s[de] == '-' || s[de] == '.') {
			de++
		}
		for de > i+1 && s[de-1] == '.' {
			de--
		}
		domain := s[i+1 : de]
		dot := strings.LastIndexByte(domain, '.')
		// A URL's user name is not an address, nor is a process id before
		// a host name (the Temporal SDK's worker id, "1462@host.example@").
		if ls == i || ls >= 3 && s[ls-3:ls] == "://" || i-ls < 7 && digitsAt(s, ls, i-ls) || dot <= 0 || len(domain)-dot-1 < 2 || !isLetters(domain[dot+1:]) {
			continue
		}
		b.WriteString(s[last:ls])
		_, n := utf8.DecodeRuneInString(s[ls:])
		b.WriteString(s[ls : ls+n])
		b.WriteString(hidden + hidden + hidden)
		last, i = i, de-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskPhones masks each phone number in s.
func maskPhones(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !(c == '+' || c == '(' || isDigit(c)) || i > 0 && isAlnum(s[i-1]) {
			i++
			continue
		}
		var (
			buf    [15]byte
			end    int
			digits []byte
			ok     bool
		)
		if c == '+' {
			end, digits, ok = international(buf[:0], s, i)
		} else {
			end, digits, ok = national(buf[:0], s, i)
		}
		if !ok {
			// Skip the rest of a run of digits: a number never starts
			// inside one.
			for i++; i < len(s) && isDigit(s[i]); i++ {
			}
			continue
		}
		if last == 0 {
			b.Grow(len(s) + 2*len(hidden))
		}
		b.WriteString(s[last:i])
		writeMasked(&b, digits, c == '+')
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// international matches a number in international form at s[i] == '+',
// appending its digits to digits:
// a first digit 1-9, 7 to 15 digits in all, in groups separated by one
// space or dash, or parenthesized; groups after the first, except a
// parenthesized one, have at least 2 digits.
func international(digits []byte, s string, i int) (end int, _ []byte, ok bool) {
	j := i + 1
	if j >= len(s) || s[j] < '1' || s[j] > '9' {
		return 0, nil, false
	}
	for group := 0; ; group++ {
		// A group: digits, or digits in parentheses.
		k := j
		paren := k < len(s) && s[k] == '(' && group > 0
		if paren {
			k++
		}
		ds := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		n := k - ds
		if paren {
			if n == 0 || k >= len(s) || s[k] != ')' {
				break
			}
			k++
		} else if n == 0 || group > 0 && n < 2 {
			break
		}
		if len(digits)+n > 15 {
			return 0, nil, false
		}
		digits = append(digits, s[ds:ds+n]...)
		end = k
		// One separator before the next group; none before "(" or after
		// ")".
		j = k
		if j >= len(s) {
			break
		}
		if s[j] == ' ' || s[j] == '-' {
			j++
		} else if s[j] != '(' && !(paren && isDigit(s[j])) {
			break
		}
	}
	if len(digits) < 7 || end < len(s) && isAlnum(s[end]) {
		return 0, nil, false
	}
	return end, digits, true
}

// national matches a North American number in national form at s[i]:
// (555) 123-4567, 555-123-4567 or 555.123.4567, appending its digits to
// digits. Three groups separated by
// spaces are more often data than a number, and are left alone.
func national(digits []byte, s string, i int) (end int, _ []byte, ok bool) {
	j := i
	paren := s[j] == '('
	if paren {
		j++
	}
	if !digitsAt(s, j, 3) {
		return 0, nil, false
	}
	digits = append(digits, s[j:j+3]...)
	j += 3
	var sep byte
	if paren {
		if j >= len(s) || s[j] != ')' {
			return 0, nil, false
		}
		j++
		if j < len(s) && s[j] == ' ' {
			j++
		}
	} else {
		if j >= len(s) || (s[j] != '-' && s[j] != '.') {
			return 0, nil, false
		}
		sep = s[j]
		j++
	}
	if !digitsAt(s, j, 3) {
		return 0, nil, false
	}
	digits = append(digits, s[j:j+3]...)
	j += 3
	if j >= len(s) || s[j] != '-' && s[j] != '.' || sep != 0 && s[j] != sep {
		return 0, nil, false
	}
	j++
	if !digitsAt(s, j, 4) {
		return 0, nil, false
	}
	digits = append(digits, s[j:j+4]...)
	j += 4
	// "555-123-4567-8" or "555.123.4567.8" is something else.
	if j < len(s) && (isAlnum(s[j]) || (s[j] == '-' || s[j] == '.') && j+1 < len(s) && isDigit(s[j+1])) {
		return 0, nil, false
	}
	return j, digits, true
}

// maskBarePhone masks s if it is a bare number: 7 to 15 digits, with an
// optional "whatsapp:" prefix. It reports whether it did.
func maskBarePhone(s string) (string, bool) {
	prefix := ""
	if hasFoldPrefix(s, "whatsapp:") {
		prefix, s = s[:len("whatsapp:")], s[len("whatsapp:"):]
	}
	if len(s) < 7 || len(s) > 15 || s[0] == '0' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return "", false
		}
	}
	return prefix + maskDigits([]byte(s), false), true
}

// maskDigits returns a number's masked form (see writeMasked).
func maskDigits(d []byte, plus bool) string {
	var b strings.Builder
	writeMasked(&b, d, plus)
	return b.String()
}

// writeMasked writes a number's masked form to b: up to 4 leading digits,
// at least 5 hidden ones, the last 2.
func writeMasked(b *strings.Builder, d []byte, plus bool) {
	keep := max(0, min(4, len(d)-7))
	b.Grow(1 + len(d) + (len(d)-keep-2)*(len(hidden)-1))
	if plus {
		b.WriteByte('+')
	}
	b.Write(d[:keep])
	for range len(d) - keep - 2 {
		b.WriteString(hidden)
	}
	b.Write(d[len(d)-2:])
}

func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

// hasFoldPrefix reports whether s starts with the lower-case ASCII prefix,
// ignoring case.
func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// isNameByte reports whether c may be part of a parameter or member name.
func isNameByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

// isLocalByte reports whether c may be part of an address's local part.
func isLocalByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("._%+-", c) >= 0
}

// isTokenByte reports whether c may be part of a bearer token or base64
// credentials (RFC 6750's b64token).
func isTokenByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-._~+/=", c) >= 0
}
