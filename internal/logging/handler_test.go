package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const (
	phone       = "+15551234567"
	maskedPhone = "+1555•••••67"
	email       = "jane.doe@example.com"
	maskedEmail = "j•••@example.com"
	token       = "EAAGm0PX4ZCps"
)

// contact is a fmt.Stringer that prints a phone number.
type contact struct{ number string }

func (c contact) String() string { return "contact " + c.number }

// recipient is a slog.LogValuer that logs an address and a number.
type recipient struct{ email, phone string }

func (r recipient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", r.email), slog.String("phone", r.phone))
}

// credentials marshals to JSON with a secret member.
type credentials struct {
	User     string `json:"user"`
	APIToken string `json:"api_token"`
	Phone    string `json:"phone"`
}

// channel is a named string type, as channels.Channel is.
type channel string

func TestHandlerMasks(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want []string // in the output, in both formats
		not  []string // never in the output
	}{
		{"message", func(l *slog.Logger) { l.Info("sending to " + phone + " and " + email) },
			[]string{maskedPhone, maskedEmail}, []string{phone, email}},
		{"string attrs", func(l *slog.Logger) { l.Info("send", "to", phone, "email", email) },
			[]string{maskedPhone, maskedEmail}, []string{phone, email}},
		{"twilio whatsapp address", func(l *slog.Logger) { l.Info("send", "from", "whatsapp:"+phone) },
			[]string{"whatsapp:" + maskedPhone}, []string{phone}},
		{"bare wa_id", func(l *slog.Logger) { l.Info("inbound", "wa_id", "15551234567", "recipient_id", "15551234567") },
			[]string{"1555•••••67"}, []string{"15551234567"}},
		{"bare number as integer", func(l *slog.Logger) { l.Info("inbound", "from", 15551234567, "recipient", uint64(15551234567)) },
			[]string{"1555•••••67"}, []string{"15551234567"}},
		{"error", func(l *slog.Logger) {
			err := fmt.Errorf("send sms: %w", errors.New("The 'To' number "+phone+" is not a valid phone number"))
			l.Error("send failed", "error", err)
		}, []string{"The 'To' number " + maskedPhone + " is not a valid phone number"}, []string{phone}},
		{"stringer", func(l *slog.Logger) { l.Info("x", "who", contact{phone}) },
			[]string{"contact " + maskedPhone}, []string{phone}},
		{"log valuer", func(l *slog.Logger) { l.Info("x", "rcpt", recipient{email, "15551234567"}) },
			[]string{maskedEmail, "1555•••••67"}, []string{email, "15551234567"}},
		{"slices", func(l *slog.Logger) {
			l.Info("x", "to", []string{phone, "15557654321"}, "mixed", []any{email, errors.New(phone), 3})
		}, []string{maskedPhone, "1555•••••21", maskedEmail}, []string{phone, "15557654321", email}},
		{"nested groups", func(l *slog.Logger) {
			l.Info("x", slog.Group("a", slog.Group("b", slog.String("email", email), slog.String("password", "hunter2"))))
		}, []string{maskedEmail, Redacted}, []string{email, "hunter2"}},
		{"with", func(l *slog.Logger) { l.With("to", phone, "auth_token", token).Info("x") },
			[]string{maskedPhone, Redacted}, []string{phone, token}},
		{"with group", func(l *slog.Logger) { l.WithGroup("req").With("email", email).Info("x", "to", phone) },
			[]string{maskedEmail, maskedPhone}, []string{email, phone}},
		{"secret group", func(l *slog.Logger) { l.WithGroup("credentials").Info("x", "user", "app", "value", token) },
			[]string{Redacted}, []string{token, "app"}},
		{"secret group attr", func(l *slog.Logger) { l.Info("x", slog.Group("secrets", "whatsapp", token)) },
			[]string{Redacted}, []string{token}},
		{"secret keys", func(l *slog.Logger) {
			l.Info("x", "access_token", token, "WHATSAPP_APP_SECRET", token+"1", "contact_key", token+"2",
				"Authorization", "Bearer "+token+"3", "X-Hub-Signature-256", "sha256="+token+"4", "apiKey", 12345)
		}, []string{Redacted}, []string{token, "12345"}},
		{"secrets in values", func(l *slog.Logger) {
			l.Warn("x", "dsn", "postgres://app:"+token+"@db/switchback", "url", "https://g/v23.0?access_token="+token, "header", "Bearer "+token)
		}, []string{"postgres://app:[redacted]@db/switchback", "access_token=[redacted]", "Bearer [redacted]"}, []string{token}},
		{"struct through JSON", func(l *slog.Logger) { l.Info("x", "creds", credentials{"app", token, phone}) },
			[]string{maskedPhone, Redacted}, []string{token, phone}},
		{"map", func(l *slog.Logger) {
			l.Info("x", "params", map[string]string{"To": phone, "AuthToken": token}, "m", map[string]any{"email": email, "secret": token})
		}, []string{maskedPhone, maskedEmail, Redacted}, []string{token, phone, email}},
		{"bytes", func(l *slog.Logger) { l.Info("x", "raw", []byte(`{"to":"`+phone+`"}`)) },
			[]string{maskedPhone}, []string{phone}},
		{"codes and message text", func(l *slog.Logger) {
			l.Info("x", "code", "493817", "otp", 493817, "pin", "pin-7261", "text", "Your code is 493817",
				"Body", "Your code is 493817", "message_body", []byte("Your code is 493817"),
				"vars", map[string]string{"code": "493817"}, "error_code", "131026")
		}, []string{Redacted, "131026"}, []string{"493817", "pin-7261"}},
		{"code in a map", func(l *slog.Logger) {
			l.Info("x", "params", map[string]any{"to": phone, "code": "493817", "Body": "code 493817"})
		}, []string{maskedPhone, Redacted}, []string{phone, "493817"}},
		{"bare number in text", func(l *slog.Logger) {
			l.Info("inbound from 15551234567", "error", errors.New("wa_id 15551234567 unknown"))
		}, []string{"1555•••••67"}, []string{"15551234567"}},
	}
	for _, format := range []string{FormatJSON, FormatText} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(New(&buf, Options{Format: format}))
				out := buf.String()
				if out == "" {
					t.Fatal("nothing logged")
				}
				for _, w := range tt.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(out, n) {
						t.Errorf("output has %q:\n%s", n, out)
					}
				}
			})
		}
	}
}

// What is not PII keeps its value and its JSON type.
func TestHandlerKeepsWhatIsNotPII(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Options{Format: FormatJSON})
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	l.Info("status delivered",
		"workflow_id", "otp-7f3c2a10-6a4b-4d8e-9a51-1d2e3f405060",
		"message_id", "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTdGM0Y2RjE5RkI3QkZFNjgA",
		"sid", "SM0123456789abcdef0123456789abcdef",
		"at", at, "took", 1500*time.Millisecond, "http_status", 503, "attempt", 3,
		"tokens_used", 1234567, "keyword", "STOP", "channel", channel("sms"), "ok", true, "token", "")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := map[string]any{
		"msg":         "status delivered",
		"workflow_id": "otp-7f3c2a10-6a4b-4d8e-9a51-1d2e3f405060",
		"message_id":  "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTdGM0Y2RjE5RkI3QkZFNjgA",
		"sid":         "SM0123456789abcdef0123456789abcdef",
		"at":          at.Format(time.RFC3339),
		"took":        float64(1500 * time.Millisecond),
		"http_status": float64(503),
		"attempt":     float64(3),
		"tokens_used": float64(1234567),
		"keyword":     "STOP",
		"channel":     "sms",
		"ok":          true,
		"token":       "", // an unset secret says so
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
}

func TestHandlerLevels(t *testing.T) {
	tests := []struct {
		level slog.Leveler
		want  []string
	}{
		{nil, []string{"info", "warn", "error"}},
		{slog.LevelDebug, []string{"debug", "info", "warn", "error"}},
		{slog.LevelWarn, []string{"warn", "error"}},
		{slog.LevelError, []string{"error"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		l := New(&buf, Options{Format: FormatJSON, Level: tt.level})
		l.Debug("debug", "to", phone)
		l.Info("info", "to", phone)
		l.Warn("warn", "to", phone)
		l.Error("error", "to", phone)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec struct{ Msg, To string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("level %v: %v: %q", tt.level, err, line)
			}
			if rec.To != maskedPhone {
				t.Errorf("level %v: to = %q", tt.level, rec.To)
			}
			got = append(got, rec.Msg)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("level %v: logged %q, want %q", tt.level, got, tt.want)
		}
	}
}

func TestNewFormat(t *testing.T) {
	tests := []struct {
		format, prefix string
	}{
		{FormatJSON, `{"time":`},
		{"", `{"time":`},
		{FormatText, `time=`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		New(&buf, Options{Format: tt.format}).Info("hello", "to", phone)
		if out := buf.String(); !strings.HasPrefix(out, tt.prefix) || !strings.Contains(out, maskedPhone) {
			t.Errorf("format %q wrote %q, want it to start with %q and hold %q", tt.format, out, tt.prefix, maskedPhone)
		}
	}
}

// The handler is safe for concurrent use as the handler it wraps is, and
// the records it passes on are new: the caller's record is not changed.
func TestHandlerLeavesRecordAlone(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(slog.NewJSONHandler(&buf, nil))
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "to "+phone, 0)
	r.AddAttrs(slog.String("to", phone))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if r.Message != "to "+phone {
		t.Errorf("record message changed to %q", r.Message)
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.String() != phone {
			t.Errorf("record attr changed to %v", a)
		}
		return true
	})
	if strings.Contains(buf.String(), phone) {
		t.Errorf("output has the number: %s", buf.String())
	}
}
