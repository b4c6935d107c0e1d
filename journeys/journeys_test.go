package journeys

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

func TestBuiltinOTP(t *testing.T) {
	j, err := Builtin("otp")
	if err != nil {
		t.Fatal(err)
	}
	if j.Purpose != Authentication || time.Duration(j.Expire) != 10*time.Minute || len(j.Steps) != 1 {
		t.Fatalf("otp = %+v", j)
	}
	as := j.Steps[0].Send.Attempts
	if len(as) != 2 || as[0].Channel != channels.WhatsApp || as[1].Channel != channels.SMS {
		t.Fatalf("attempts = %+v", as)
	}
	if as[0].WithinOrDefault() != 30*time.Second || as[1].WithinOrDefault() != 60*time.Second || as[0].AwaitOrDefault() != channels.StatusDelivered {
		t.Errorf("await/within = %v %v %v", as[0].AwaitOrDefault(), as[0].WithinOrDefault(), as[1].WithinOrDefault())
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "otp") {
		t.Errorf("unknown journey error = %v, want one that lists the built-ins", err)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "name: t\npurpose: utility\nparams: [code]\nsteps:\n  - send:\n      id: s1\n      attempts:\n"
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error
	}{
		{"unknown field", head + "        - channel: sms\n          text: hi\n          wihtin: 30s\n", []string{"f.yaml", "line 10", "wihtin"}},
		{"bad duration", head + "        - channel: sms\n          text: hi\n          within: 30 seconds\n", []string{"f.yaml", "line 10", "30 seconds"}},
		{"unknown channel", head + "        - channel: pigeon\n          text: hi\n", []string{"f.yaml: step s1: attempts[0].channel", "pigeon"}},
		{"undeclared param", head + "        - channel: sms\n          text: \"{{.name}}\"\n", []string{"step s1: attempts[0].text", "name"}},
		{"bad await", head + "        - channel: sms\n          text: hi\n          await: opened\n", []string{"attempts[0].await", "opened"}},
		{"whatsapp template without language", head + "        - channel: whatsapp\n          template: {name: otp_code}\n", []string{"attempts[0].template.language"}},
		{"bad purpose", "name: t\npurpose: spam\nsteps: []\n", []string{"purpose", "spam", "steps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRender(t *testing.T) {
	j, err := Builtin("otp")
	if err != nil {
		t.Fatal(err)
	}
	wa := j.Steps[0].Send.Attempts[0]
	msg, err := wa.Render("+15551234567", map[string]string{"code": "493817"})
	if err != nil {
		t.Fatal(err)
	}
	if msg.To != "+15551234567" || msg.Template.Name != "otp_code" || msg.Template.Language != "en_US" ||
		msg.Template.Body[0] != "493817" || msg.Template.ButtonURL[0] != "493817" {
		t.Errorf("rendered = %+v %+v", msg, msg.Template)
	}
	// A variable the caller did not pass is an error, never an empty string.
	if _, err := wa.Render("+15551234567", map[string]string{}); err == nil {
		t.Error("render without code: want an error")
	}
	var missing *MissingParamsError
	if err := j.CheckVars(map[string]string{"other": "x"}); !errors.As(err, &missing) || missing.Missing[0] != "code" {
		t.Errorf("CheckVars = %v, want missing code", err)
	}
	if err := j.CheckVars(map[string]string{"code": "1"}); err != nil {
		t.Errorf("CheckVars with code: %v", err)
	}
}

func TestCheckRecipient(t *testing.T) {
	for _, ok := range []string{"+15551234567", "+4915112345678"} {
		if err := CheckRecipient(ok); err != nil {
			t.Errorf("CheckRecipient(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "15551234567", "+1 555 123 4567", "+0123456789", "+1555", "+1234567890123456", "+1555123456a"} {
		if err := CheckRecipient(bad); err == nil {
			t.Errorf("CheckRecipient(%q) = nil, want an error", bad)
		}
	}
}

func TestContactKey(t *testing.T) {
	a := ContactKey([]byte("k1"), "+15551234567")
	if a == ContactKey([]byte("k2"), "+15551234567") || a != ContactKey([]byte("k1"), "+15551234567") || strings.Contains(a, "5551234567") {
		t.Errorf("ContactKey not keyed, stable and opaque: %s", a)
	}
}
