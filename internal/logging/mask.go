package logging

import (
	"strings"
	"unicode"
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
	digits, run := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+', c == '@', c == '=', c == '"', c == '/', c == '%':
			return true
		case isDigit(c):
			// National numbers have 10 digits, bare ones at least 7.
			digits++
			if run++; digits >= 10 || run >= minDigits {
				return true
			}
		default:
			run = 0
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
		if quoted && (s[vs] == '{' || s[vs] == '[') {
			// A JSON object or array becomes a JSON string.
			b.WriteString(`"` + Redacted + `"`)
		} else {
			b.WriteString(Redacted)
		}
		last, i = ve, ve-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// valueSpan returns the bounds of the value that starts at or after i: a
// JSON string's contents, an object or array with its brackets, an
// authorization scheme and its credentials, or everything up to a
// delimiter.
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
	if strings.HasPrefix(s[i:], Redacted) {
		return i, i + len(Redacted)
	}
	if i < len(s) && (s[i] == '{' || s[i] == '[') {
		return i, bracketEnd(s, i)
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

// bracketEnd returns the end of the object or array that opens at s[i],
// skipping JSON strings, or len(s) when it does not close.
func bracketEnd(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1
			}
		case '"':
			for j++; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
		}
	}
	return len(s)
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
		ls := localStart(s, last, i)
		de := domainEnd(s, i+1)
		domain := s[i+1 : de]
		dot := strings.LastIndexByte(domain, '.')
		// A URL's user name is not an address, nor is a process id before
		// a host name (the Temporal SDK's worker id, "1462@host.example@").
		if ls == i || ls >= 3 && s[ls-3:ls] == "://" || i-ls < 7 && digitsAt(s, ls, i-ls) || dot <= 0 || !topLevelDomain(domain[dot+1:]) {
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

// localStart returns where the local part of an address that ends at
// s[at] == '@' starts, not before from: it holds ASCII letters, digits and
// "._%+-", and letters, digits and marks of any script.
func localStart(s string, from, at int) int {
	ls := at
	for ls > from {
		if c := s[ls-1]; c < utf8.RuneSelf {
			if !isLocalByte(c) {
				break
			}
			ls--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[from:ls])
		if !isWordRune(r) {
			break
		}
		ls -= n
	}
	return ls
}

// domainEnd returns where the domain that starts at s[i] ends: it holds
// ASCII letters, digits, "-" and ".", and letters, digits and marks of any
// script, and does not end with a dot.
func domainEnd(s string, i int) int {
	de := i
	for de < len(s) {
		if c := s[de]; c < utf8.RuneSelf {
			if !isAlnum(c) && c != '-' && c != '.' {
				break
			}
			de++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[de:])
		if !isWordRune(r) {
			break
		}
		de += n
	}
	for de > i && s[de-1] == '.' {
		de--
	}
	return de
}

// topLevelDomain reports whether tld may end an address's domain: two or
// more letters of one script ("com", "рф"), or an IDN's ASCII form
// ("xn--p1ai").
func topLevelDomain(tld string) bool {
	if len(tld) < 2 {
		return false
	}
	if hasFoldPrefix(tld, "xn--") {
		return len(tld) > 4 && strings.TrimFunc(tld[4:], func(r rune) bool { return r < utf8.RuneSelf && (isAlnum(byte(r)) || r == '-') }) == ""
	}
	for _, r := range tld {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.M, r) {
			return false
		}
	}
	return true
}

// wordRuneBefore reports whether the rune that ends at s[i] is a letter,
// digit or mark: digits right after it are part of a word.
func wordRuneBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

// isWordRune reports whether r is a letter, digit or mark.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}

// The lengths of a phone number's digits, E.164's and the shortest
// national numbers'.
const (
	minDigits = 7
	maxDigits = 15
)

// maskPhones masks each phone number in s.
func maskPhones(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		var buf [maxDigits]byte
		prefix, digits, end, ok := phoneAt(buf[:0], s, i)
		if !ok {
			i = end
			continue
		}
		if last == 0 {
			b.Grow(len(s) + 2*len(hidden))
		}
		b.WriteString(s[last:i])
		writeMasked(&b, prefix, digits)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// phoneAt matches a phone number that starts at s[i]: in international
// form after "+", "%2B" (URL-encoded) or "00", in a North American national
// form, or bare (see bareNumber). It returns the prefix to keep, the
// number's digits appended to buf and the number's end; when there is no
// number at i, end is where the next may start. Digits that run into a
// masked number's hidden ones are the head of that number, not another
// one: masking masked text changes nothing.
func phoneAt(buf []byte, s string, i int) (prefix string, digits []byte, end int, ok bool) {
	prefix, digits, end, ok = matchPhone(buf, s, i)
	if ok && maskedTail(s[end:]) {
		return "", nil, end, false
	}
	return prefix, digits, end, ok
}

// maskedTail reports whether s starts as the end of a masked number does:
// 5 or more hidden digits, then 2 digits.
func maskedTail(s string) bool {
	n := 0
	for strings.HasPrefix(s, hidden) {
		s, n = s[len(hidden):], n+1
	}
	return n >= 5 && digitsAt(s, 0, 2) && (len(s) == 2 || !isDigit(s[2]))
}

// matchPhone is phoneAt without its check for masked numbers.
func matchPhone(buf []byte, s string, i int) (prefix string, digits []byte, end int, ok bool) {
	c := s[i]
	switch {
	case c == '%' && hasFoldPrefix(s[i:], "%2b"):
		// After "%2B" rather than "+", and in a URL's text, where the
		// byte before is often a letter ("whatsapp%3A%2B...").
		if end, digits, ok = international(buf, s, i+2); ok {
			return s[i : i+3], digits, end, true
		}
		return "", nil, i + 3, false
	case i > 0 && isAlnum(s[i-1]), i > 0 && s[i-1] >= utf8.RuneSelf && wordRuneBefore(s, i):
		return "", nil, i + 1, false
	case c == '+':
		if end, digits, ok = international(buf, s, i); ok {
			return "+", digits, end, true
		}
		return "", nil, skipDigits(s, i+1), false
	case c == '(':
		if end, digits, ok = national(buf, s, i); ok {
			return "", digits, end, true
		}
		return "", nil, i + 1, false
	case !isDigit(c):
		return "", nil, i + 1, false
	case isUUID(s[i:min(len(s), i+36)]):
		// A UUID's groups are no number, whatever they start with.
		return "", nil, i + 36, false
	}
	if c == '0' && i+2 < len(s) && s[i+1] == '0' && s[i+2] != '0' {
		// "00", the international call prefix, in place of "+".
		if end, digits, ok = international(buf, s, i+1); ok {
			return "00", digits, end, true
		}
	}
	if end, digits, ok = national(buf, s, i); ok {
		return "", digits, end, true
	}
	// A number never starts inside a run of digits.
	end = skipDigits(s, i)
	if bareNumber(s, i, end) {
		return "", append(buf, s[i:end]...), end, true
	}
	return "", nil, end, false
}

// skipDigits returns the end of the run of digits that starts at s[i].
func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// bareNumber reports whether s[start:end], a run of digits with no letter
// or digit before it, is a phone number written without "+" or
// separators ("15551234567", "07700900123"): 7 to 15 digits that are not
// part of a word, a decimal or grouped number ("3.14159265", "1,234,567")
// or a UUID. Ten or thirteen digits starting with 1 are taken for a Unix
// time in seconds or milliseconds: a number in E.164 that starts with 1
// (the North American country code) has 11 digits.
func bareNumber(s string, start, end int) bool {
	n := end - start
	switch {
	case n < minDigits || n > maxDigits,
		end < len(s) && isAlnum(s[end]),
		joinsDigits(s, start-1, -1), joinsDigits(s, end, 1),
		s[start] == '1' && (n == 10 || n == 13):
		return false
	case n == 8:
		return !isUUID(s[start:min(len(s), start+36)])
	case n == 12:
		return !uuidTail(s, start)
	}
	return true
}

// uuidTail reports whether the digits at s[start] are a UUID's last group:
// they follow "-hhhh-", its fourth group. Only that group is looked at: it
// is too short to be masked, while the groups before may be a masked
// number's digits.
func uuidTail(s string, start int) bool {
	if start < 6 || s[start-6] != '-' || s[start-1] != '-' {
		return false
	}
	for _, c := range []byte(s[start-5 : start-1]) {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// joinsDigits reports whether s[i] is a decimal point or a thousands
// separator with a digit on its other side, in direction dir (1 or -1).
func joinsDigits(s string, i, dir int) bool {
	return i >= 0 && i < len(s) && (s[i] == '.' || s[i] == ',') &&
		i+dir >= 0 && i+dir < len(s) && isDigit(s[i+dir])
}

// isUUID reports whether u is a UUID in its text form,
// "7f3c2a10-6a4b-4d8e-9a51-1d2e3f405060".
func isUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if u[i] != '-' {
				return false
			}
		} else if !isHex(u[i]) {
			return false
		}
	}
	return true
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
		if group > 0 && !paren && strings.HasPrefix(s[k:], hidden) {
			// A masked number: it stood apart because joining it made
			// too many digits, so it ends or spoils this one as it did.
			if s[j-1] != ' ' {
				return 0, nil, false
			}
			break
		}
		if paren {
			if n == 0 || k >= len(s) || s[k] != ')' {
				break
			}
			k++
		} else if n == 0 || group > 0 && n < 2 {
			break
		}
		if len(digits)+n > 15 {
			if group == 0 || s[j-1] != ' ' {
				// A dashed run longer than E.164 is an id, not a number.
				return 0, nil, false
			}
			// After a space, the number ended before this group: more
			// digits than E.164 allows are the next number's, or data.
			break
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
	var b strings.Builder
	writeMasked(&b, prefix, []byte(s))
	return b.String(), true
}

// writeMasked writes a number's masked form to b: its prefix, up to 4
// leading digits, at least 5 hidden ones, the last 2.
func writeMasked(b *strings.Builder, prefix string, d []byte) {
	keep := max(0, min(4, len(d)-7))
	b.Grow(len(prefix) + len(d) + (len(d)-keep-2)*(len(hidden)-1))
	b.WriteString(prefix)
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

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

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
