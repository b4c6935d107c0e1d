package logging

import "testing"

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Phone numbers.
		{"e164", "+15551234567", "+1555•••••67"},
		{"e164 in text", "sending to +15551234567 now", "sending to +1555•••••67 now"},
		{"twilio whatsapp address", "whatsapp:+15551234567", "whatsapp:+1555•••••67"},
		{"spaced", "call +1 555 123 4567.", "call +1555•••••67."},
		{"dashed", "+1-555-123-4567", "+1555•••••67"},
		{"parenthesized", "+1 (555) 123-4567", "+1555•••••67"},
		{"uk with trunk zero", "+44 (0)20 7946 0958", "+4402•••••••58"},
		{"short international", "+4312345", "+•••••45"},
		{"longest international", "+123456789012345", "+1234•••••••••45"},
		{"twilio error", "The 'To' number +15551234567 is not a valid phone number.", "The 'To' number +1555•••••67 is not a valid phone number."},
		{"national parenthesized", "(555) 123-4567", "555•••••67"},
		{"national dashed", "555-123-4567", "555•••••67"},
		{"national dotted", "call 555.123.4567", "call 555•••••67"},
		{"two numbers", "+15551234567,+15557654321", "+1555•••••67,+1555•••••21"},
		{"json member", `{"to":"+15551234567"}`, `{"to":"+1555•••••67"}`},
		{"trailing single digit group", "+1 555 123 4567 2 tries", "+1555•••••67 2 tries"},
		// A group that would pass 15 digits starts the next number: each
		// is masked, so masking again changes nothing (found by FuzzMask).
		{"group past fifteen digits", "0010000000000000 35551234", "001000••••••••00 3•••••34"},
		{"uuid starting with 00", "00100000-0000-0000-0000-000000000000", "00100000-0000-0000-0000-000000000000"},
		{"number joined to a uuid's tail", "19012345678-1234-4abc-8def-123456789012", "1901•••••78-1234-4abc-8def-123456789012"},
		{"dashed run past fifteen digits", "001-0000-0000-0000-000000000000", "001-0000-0000-0000-000000000000"},
		{"spaced then dashed past fifteen", "001 0000 0000-0000000", "001 0000 0000-•••••00"},
		{"uuid-like tail after a number", "001-0000-0000-A000-000000000000", "0010•••••00-A000-000000000000"},
		{"digits glued to a non-ascii letter", "A@Ą.ۤ0000000", "A@Ą.ۤ0000000"},
		{"bare in text", "inbound from 15551234567: STOP", "inbound from 1555•••••67: STOP"},
		{"bare national", "call 07700900123 or 4412345", "call 0770•••••23 or •••••45"},
		{"bare in url", "POST /v23.0/messages?to=15551234567&x=1", "POST /v23.0/messages?to=1555•••••67&x=1"},
		{"bare in workflow id", "otp-15551234567", "otp-1555•••••67"},
		{"bare longest", "123456789012345", "1234•••••••••45"},
		{"bare ten digits", "5551234567", "555•••••67"},
		{"bare in parentheses", "(15551234567)", "(1555•••••67)"},
		{"url-encoded plus", "To=%2B15551234567&From=%2b15557654321", "To=%2B1555•••••67&From=%2b1555•••••21"},
		{"url-encoded whatsapp address", "To=whatsapp%3A%2B15551234567", "To=whatsapp%3A%2B1555•••••67"},
		{"international call prefix", "call 0044 20 7946 0958", "call 004420••••••58"},
		{"international call prefix bare", "0015551234567", "001555•••••67"},
		{"too long after plus, then 00", "+1 00222337203685477", "+1 002223•••••••••77"},
		// Emails.
		{"email", "jane.doe@example.com", "j•••@example.com"},
		{"email in text", "bounce for <jane+tag@mail.example.co.uk>.", "bounce for <j•••@mail.example.co.uk>."},
		{"two emails", "a@example.com b@example.org", "a•••@example.com b•••@example.org"},
		{"whatsapp jid", "15551234567@s.whatsapp.net", "1•••@s.whatsapp.net"},
		{"non-ascii local part", "to josé.núñez@example.es", "to j•••@example.es"},
		{"non-ascii first letter", "Ärger@example.de", "Ä•••@example.de"},
		{"idn", "<jane@bücher.example.de>", "<j•••@bücher.example.de>"},
		{"non-latin address", "用户@例子.广告", "用•••@例子.广告"},
		{"cyrillic tld", "почта@пример.рф", "п•••@пример.рф"},
		{"punycode tld", "jane@example.xn--p1ai", "j•••@example.xn--p1ai"},
		{"address in quotes", "“jane@example.com”", "“j•••@example.com”"},
		// Secrets in values.
		{"bearer", "Authorization: Bearer abc.DEF-123", "Authorization: Bearer [redacted]"},
		{"bearer lower case", "bearer eyJhbGciOi.x.y", "bearer [redacted]"},
		{"basic", "Basic QUMxMjM6c2VjcmV0", "Basic [redacted]"},
		{"bearer prose", "missing bearer token", "missing bearer token"},
		{"url password", "postgres://app:s3cret@db.internal:5432/switchback", "postgres://app:[redacted]@db.internal:5432/switchback"},
		{"url without password", "postgres://app@db.internal/switchback", "postgres://app@db.internal/switchback"},
		{"query token", "GET https://graph.example/v23.0/me?fields=id&access_token=EAAB123&x=1", "GET https://graph.example/v23.0/me?fields=id&access_token=[redacted]&x=1"},
		{"pair in error", "dial: password=hunter2 host=db", "dial: password=[redacted] host=db"},
		{"pair with bearer", "Authorization=Bearer abc123 next", "Authorization=[redacted] next"},
		{"json secret", `{"access_token":"EAAB123","id":"42"}`, `{"access_token":"[redacted]","id":"42"}`},
		{"json secret spaced", `{"app_secret": "shh\"x", "ok": 1}`, `{"app_secret": "[redacted]", "ok": 1}`},
		{"twilio params", "To=%2B15551234567&Body=Your+code+is+493817&AuthToken=abc", "To=%2B1555•••••67&Body=[redacted]&AuthToken=[redacted]"},
		{"code in query", "GET /cb?code=493817&state=x", "GET /cb?code=[redacted]&state=x"},
		{"json message text", `{"type":"text","text":{"body":"493817"}}`, `{"type":"text","text":"[redacted]"}`},
		{"json vars", `{"journey":"otp","vars":{"code":"493817"},"to":"x"}`, `{"journey":"otp","vars":"[redacted]","to":"x"}`},
		{"json array", `{"tokens":["a","b"]}`, `{"tokens":"[redacted]"}`},
		{"pair with brackets", "token=[abc] next", "token=[redacted] next"},
		{"already redacted", "token=[redacted] next", "token=[redacted] next"},
		{"error code kept", `{"error_code":131026}`, `{"error_code":131026}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// Masking masked text changes nothing, even where the digits
			// a masked number keeps could join the text before them.
			if again := Mask(tt.want); again != tt.want {
				t.Errorf("Mask(%q) = %q, want it unchanged", tt.want, again)
			}
		})
	}
}

// Ids, times and numbers that are not PII pass through unchanged.
func TestMaskKeepsWhatIsNotPII(t *testing.T) {
	for _, s := range []string{
		"otp-7f3c2a10-6a4b-4d8e-9a51-1d2e3f405060",
		"wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTdGM0Y2RjE5RkI3QkZFNjgA",
		"wamid.HBgL+15551234567Vg==",
		"SM0123456789abcdef0123456789abcdef",
		"2025-03-14T15:09:26.535897932+01:00",
		"2025-03-14 15:09:26.5 +0000 UTC m=+1234.567890123",
		"1.5s", "2m30s", "took 1234567890ns",
		"HTTP 503 after 3 attempts", "status 200 500 1234",
		"127.0.0.1:7233", "10.0.0.12:8080",
		"1741964966123", "1741964966", "error 131026: not a WhatsApp user",
		"Twilio error 30003", "attempt 2 of 3", "port 7233", "took 1500ms", "year 2025",
		"pi 3.14159265358", "total 1234567.89", "bytes 1,234,567,890",
		"run 12345678-1234-4abc-8def-123456789012", "ns 8d6f4d2a-6a4b-4d8e-9a51-123456789012",
		"wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTdGM0Y2RjE5RkI3QkZFNjgA==",
		"SM1234567890abcdef1234567890abcdef", "sha 1234567abcdef", "100% done",
		"rpc error: code = Unavailable desc = connection refused",
		"j•••@example.com", "+1555•••••67", "[redacted]",
		"version 1.22.3", "price 1,234,567.89",
		"bad signature: X-Twilio-Signature does not match",
		"keyword=STOP", "tokens_used=12", "Basic information",
		"user@localhost", "a@b", "1462@worker-1.prod.example.com@",
	} {
		if got := Mask(s); got != s {
			t.Errorf("Mask(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestMaskBarePhone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"15551234567", "1555•••••67", true},
		{"whatsapp:15551234567", "whatsapp:1555•••••67", true},
		{"4412345", "•••••45", true},
		{"123456", "", false},
		{"1234567890123456", "", false},
		{"0123456789", "", false},
		{"1555123456x", "", false},
	}
	for _, tt := range tests {
		got, ok := maskBarePhone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("maskBarePhone(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
