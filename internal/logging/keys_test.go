package logging

import (
	"slices"
	"testing"
)

func TestSecretKey(t *testing.T) {
	secret := []string{
		"token", "Token", "access_token", "AccessToken", "accessToken", "verify_token", "hub.verify_token",
		"secret", "app_secret", "WHATSAPP_APP_SECRET", "client-secret",
		"password", "PASSWORD", "db_passwd", "pwd", "passphrase",
		"authorization", "Authorization", "auth", "auth_token", "TWILIO_AUTH_TOKEN", "authToken",
		"api_key", "apikey", "APIKey", "X-Api-Key", "SENDGRID_API_KEY",
		"private key", "private_key", "privateKey", "encryption key", "SWITCHBACK_ENCRYPTION_KEY",
		"contact_key", "ContactKey", "codec_key", "key", "signing_keys",
		"cookie", "Set-Cookie", "signature", "X-Hub-Signature-256", "X-Twilio-Signature", "sig",
		"credentials", "hmac", "refresh_tokens", "passcode",
		"code", "Code", "otp", "otp_code", "verification_code", "pin", "PIN", "pin_code",
		"text", "Body", "message_body", "messageBody", "html", "vars", "hub.code",
	}
	plain := []string{
		"", "to", "from", "contact", "keyword", "author", "monkey", "key_id",
		"tokens_used", "token_count", "TokenType", "private_key_path", "password_file", "secret_name",
		"workflow_id", "message_id", "status", "attempt", "duration", "provider", "error",
		"error_code", "errorCode", "status_code", "http_code", "country_code", "language_code", "exit_code",
		"body_size", "text_length", "code_type", "spin", "textual", "pinned", "otp_journey_count",
	}
	for _, k := range secret {
		if !SecretKey(k) {
			t.Errorf("SecretKey(%q) = false, want true", k)
		}
	}
	for _, k := range plain {
		if SecretKey(k) {
			t.Errorf("SecretKey(%q) = true, want false", k)
		}
	}
}

func TestPhoneKey(t *testing.T) {
	for k, want := range map[string]bool{
		"to": true, "from": true, "To": true, "wa_id": true, "waId": true, "recipient": true,
		"recipient_id": true, "phone": true, "phone_number": true, "display_phone_number": true,
		"msisdn": true, "sender": true, "from_number": true,
		"id": false, "message_id": false, "from_status": false, "contact": false, "wa": false, "attempt": false,
	} {
		if got := phoneKey(k); got != want {
			t.Errorf("phoneKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"X-Hub-Signature-256", []string{"x", "hub", "signature", "256"}},
		{"APIKey", []string{"api", "key"}},
		{"apiKey", []string{"api", "key"}},
		{"SWITCHBACK_ENCRYPTION_KEY", []string{"switchback", "encryption", "key"}},
		{"hub.verify_token", []string{"hub", "verify", "token"}},
		{"private key", []string{"private", "key"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitWords(nil, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
