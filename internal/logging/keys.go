package logging

import "strings"

// SecretKey reports whether an attribute, parameter or group named key holds
// a secret: a credential, a one-time code, or the text of a message, which
// may carry one. The name is split into lower-case words at anything but
// letters and digits and at camelCase boundaries ("X-Api-Key", "apiKey" and
// "API_KEY" are all "api key"). It names a secret when:
//
//   - its last word describes the secret rather than holds it (count, used,
//     total, size, length, limit, type, kind, ttl, expiry, expires, name,
//     path, file): "tokens_used", "token_count", "body_size" and
//     "private_key_path" are not secrets;
//   - otherwise, when any word is one of token, secret, password, passwd,
//     pwd, passphrase, passcode, otp, pin, authorization, auth, cookie,
//     signature, sig, credential(s), hmac, apikey, authtoken, accesstoken,
//     refreshtoken, privatekey, secretkey, clientsecret ("verify_token",
//     "WHATSAPP_APP_SECRET", "Set-Cookie", "X-Hub-Signature-256");
//   - or one of text, body, html and vars, which hold a message or the
//     values it is made of ("Body", "message_body", "vars");
//   - or code, unless the word before it says what kind of code it is
//     (see codeKind): "code" and "otp_code" are secrets, "error_code",
//     "status_code" and "country_code" are not;
//   - or when its last word is key, keys, tokens, secrets, passwords or
//     cookies ("contact_key", "SWITCHBACK_ENCRYPTION_KEY", "private key").
//
// Words that merely contain these are not them: "keyword", "author",
// "monkey", "spin", "textual" are not secrets.
func SecretKey(key string) bool {
	var buf [8]string
	words := splitWords(buf[:0], key)
	if len(words) == 0 {
		return false
	}
	switch words[len(words)-1] {
	case "count", "used", "total", "size", "len", "length", "limit", "type", "kind",
		"ttl", "expiry", "expires", "name", "path", "file":
		return false
	case "key", "keys", "tokens", "secrets", "passwords", "cookies":
		return true
	}
	for i, w := range words {
		switch w {
		case "token", "secret", "password", "passwd", "pwd", "passphrase", "passcode", "otp", "pin",
			"authorization", "auth", "cookie", "signature", "sig", "credential", "credentials",
			"hmac", "apikey", "authtoken", "accesstoken", "refreshtoken", "privatekey",
			"secretkey", "clientsecret",
			"text", "body", "html", "vars":
			return true
		case "code":
			if i == 0 || !codeKind(words[i-1]) {
				return true
			}
		}
	}
	return false
}

// codeKind reports whether w, a word before "code", names a code that is
// not a secret: an error or status code, or a country, language or
// currency code.
func codeKind(w string) bool {
	switch w {
	case "error", "err", "status", "http", "exit", "reason", "response", "result", "return", "provider",
		"country", "language", "lang", "locale", "currency", "region", "area":
		return true
	}
	return false
}

// phoneKey reports whether an attribute named key holds a phone number or a
// WhatsApp id, so that a bare digit string there is masked: its words
// include phone, msisdn, waid (or wa and id), recipient, sender, number, or
// it is to or from.
func phoneKey(key string) bool {
	var buf [8]string
	words := splitWords(buf[:0], key)
	for i, w := range words {
		switch w {
		case "phone", "msisdn", "waid", "recipient", "recipients", "sender", "number":
			return true
		case "to", "from":
			if len(words) == 1 {
				return true
			}
		case "wa":
			if i+1 < len(words) && words[i+1] == "id" {
				return true
			}
		}
	}
	return false
}

// splitWords appends to dst the lower-case words of key, split at anything
// but ASCII letters and digits and at camelCase boundaries:
// "X-Hub-Signature-256" is x hub signature 256, "APIKey" is api key.
func splitWords(dst []string, key string) []string {
	start := -1
	for i := 0; i <= len(key); i++ {
		end := i == len(key) || !isAlnum(key[i])
		// "apiKey": an upper after a lower; "APIKey": the last upper of a
		// run when a lower follows.
		split := !end && start >= 0 && isUpper(key[i]) &&
			(!isUpper(key[i-1]) || i+1 < len(key) && isLower(key[i+1]))
		if (end || split) && start >= 0 {
			dst = append(dst, strings.ToLower(key[start:i]))
			start = -1
		}
		if !end && start < 0 {
			start = i
		}
	}
	return dst
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
