package journeys

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

func TestBuiltinOTP(t *testing.T) {
	j, err := Builtin("otp", testChannels())
	if err != nil {
		t.Fatal(err)
	}
	if j.Purpose != Authentication || time.Duration(j.Expire) != 10*time.Minute || len(j.Steps) != 1 {
		t.Fatalf("otp = %+v", j)
	}
	as := j.Steps[0].Send.Attempts
	if len(as) != 3 || as[0].Channel != channels.WhatsApp || as[1].Channel != channels.SMS || as[2].Channel != channels.Email {
		t.Fatalf("attempts = %+v", as)
	}
	if as[0].WithinOrDefault() != 30*time.Second || as[1].WithinOrDefault() != 60*time.Second || as[0].AwaitOrDefault() != channels.StatusDelivered {
		t.Errorf("await/within = %v %v %v", as[0].AwaitOrDefault(), as[0].WithinOrDefault(), as[1].WithinOrDefault())
	}
	if _, err := Builtin("nope", testChannels()); err == nil || !strings.Contains(err.Error(), "otp") {
		t.Errorf("unknown journey error = %v, want one that lists the built-ins", err)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "name: t\npurpose: utility\nparams: [code]\nsteps:\n  - send:\n      id: s1\n      attempts:\n"
	tests := []struct {
		name string
		yaml string
		want string // the exact error
	}{
		{"unknown field", head + "        - channel: sms\n          text: hi\n          wihtin: 30s\n",
			"f.yaml:10: step s1: steps[0].send.attempts[0].wihtin: is not a field of sms attempts"},
		{"bad duration", head + "        - channel: sms\n          text: hi\n          within: 30 seconds\n",
			`f.yaml:10: step s1: steps[0].send.attempts[0].within: bad duration "30 seconds": time: unknown unit " seconds" in duration "30 seconds"`},
		{"bad duration and unknown channel", head + "        - channel: sms\n          text: hi\n          within: 3x\n        - channel: pigeon\n          text: hi\n",
			"f.yaml:10: step s1: steps[0].send.attempts[0].within: bad duration \"3x\": time: unknown unit \"x\" in duration \"3x\"\n" +
				`f.yaml:11: step s1: steps[0].send.attempts[1].channel: unknown channel "pigeon" (whatsapp, sms or email)`},
		{"bad durations in flow mappings and handlers", "name: t\npurpose: utility\nexpire: soon\nsteps:\n  - wait: {id: w, duration: 1x}\non:\n  - event: e\n    steps:\n      - wait: {id: w2, until: x, timeout: [1]}\n",
			"f.yaml:3: expire: bad duration \"soon\": time: invalid duration \"soon\"\n" +
				"f.yaml:5: step w: steps[0].wait: bad duration \"1x\": time: unknown unit \"x\" in duration \"1x\"\n" +
				`f.yaml:9: step w2: on[0].steps[0].wait.timeout: duration must be a string such as "30s"`},
		{"unknown channel", head + "        - channel: pigeon\n          text: hi\n",
			`f.yaml:8: step s1: steps[0].send.attempts[0].channel: unknown channel "pigeon" (whatsapp, sms or email)`},
		{"undeclared param", head + "        - channel: sms\n          text: \"{{.name}}\"\n",
			"f.yaml:9: step s1: steps[0].send.attempts[0].text: uses undeclared params name (declare them in params)"},
		{"bad await", head + "        - channel: sms\n          text: hi\n          await: opened\n",
			`f.yaml:10: step s1: steps[0].send.attempts[0].await: unknown status "opened" (accepted, sent, delivered or read)`},
		{"whatsapp template without language", head + "        - channel: whatsapp\n          template: {name: otp_code}\n",
			"f.yaml:9: step s1: steps[0].send.attempts[0].template.language: is required (e.g. en_US)"},
		{"whatsapp text", head + "        - channel: whatsapp\n          text: hi\n",
			"f.yaml:9: step s1: steps[0].send.attempts[0].text: is not a field of whatsapp attempts"},
		{"email without content", head + "        - channel: email\n          subject: hi\n",
			"f.yaml:8: step s1: steps[0].send.attempts[0]: an email attempt needs a template id, or a subject and a text or html body"},
		{"bad purpose and no steps", "name: t\npurpose: spam\n",
			"f.yaml:2: purpose: must be authentication, utility or marketing, not \"spam\"\nf.yaml: steps: a journey needs steps or on handlers"},
		{"branch to an unknown step", "name: t\npurpose: utility\nsteps:\n  - wait: {id: w, duration: 1h}\n  - branch: {id: b, event: reply, then: nowhere}\n",
			`f.yaml:5: step b: steps[1].branch.then: no step has id "nowhere"`},
		{"branch on a later step", "name: t\npurpose: utility\nsteps:\n  - branch: {id: b, step: s, outcome: read, then: s}\n  - send: {id: s, attempts: [{channel: sms, text: hi}]}\n",
			`f.yaml:4: step b: steps[0].branch.step: "s" is not an earlier send step`},
		{"unreachable step", "name: t\npurpose: utility\nsteps:\n  - exit: {id: e}\n  - wait: {id: w, duration: 1h}\n",
			"f.yaml:5: step w: steps[1]: is unreachable: an exit comes before it and no branch goes to it"},
		{"wait until without timeout", "name: t\npurpose: utility\nsteps:\n  - wait: {id: w, until: reply}\n",
			`f.yaml:4: step w: steps[0].wait.timeout: a wait until "reply" needs a timeout`},
		{"duplicate step id", "name: t\npurpose: utility\nsteps:\n  - wait: {id: w, duration: 1h}\n  - wait: {id: w, duration: 2h}\n",
			`f.yaml:5: step w: steps[1]: id "w" is used by an earlier step`},
		{"bad quiet hours", "name: t\npurpose: marketing\nquiet_hours: {start: \"9pm\", end: \"08:00\", timezone: Mars/Base}\nsteps:\n  - wait: {id: w, duration: 1h}\n",
			"f.yaml:3: quiet_hours.start: \"9pm\" is not a time of day (HH:MM)\nf.yaml:3: quiet_hours.timezone: unknown time zone \"Mars/Base\""},
		{"verify an undeclared param", "name: t\npurpose: authentication\nverify: {param: pin}\nsteps:\n  - wait: {id: w, duration: 1h}\n",
			`f.yaml:3: verify.param: "pin" is not one of the journey's params`},
		{"two handlers for one event", "name: t\npurpose: utility\non:\n  - {event: shipped}\n  - {event: shipped}\n",
			`f.yaml:5: on[1].event: "shipped" has an earlier handler`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml), testChannels())
			if err == nil {
				t.Fatal("want an error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	j, err := Builtin("otp", testChannels())
	if err != nil {
		t.Fatal(err)
	}
	wa := j.Steps[0].Send.Attempts[0]
	msg, err := wa.Render("+15551234567", map[string]string{"code": "493817"}, RenderOptions{Channels: testChannels()})
	if err != nil {
		t.Fatal(err)
	}
	if msg.To != "+15551234567" || msg.Template.Name != "otp_code" || msg.Template.Language != "en_US" ||
		msg.Template.Body[0] != "493817" || msg.Template.ButtonURL[0] != "493817" {
		t.Errorf("rendered = %+v %+v", msg, msg.Template)
	}
	// A variable the caller did not pass is an error, never an empty string.
	if _, err := wa.Render("+15551234567", map[string]string{}, RenderOptions{Channels: testChannels()}); err == nil {
		t.Error("render without code: want an error")
	}
	var missing *MissingParamsError
	if err := j.CheckVars(map[string]string{"other": "x"}); !errors.As(err, &missing) || missing.Missing[0] != "code" {
		t.Errorf("CheckVars = %v, want missing code", err)
	}
	if err := j.CheckVars(map[string]string{"code": "4242"}); err != nil {
		t.Errorf("CheckVars with code: %v", err)
	}
	if err := j.CheckVars(map[string]string{"code": "12ab"}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("CheckVars with a bad code = %v", err)
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

func TestRenderTemplateHeaderAndButtons(t *testing.T) {
	j, err := Parse("promo.yaml", []byte(`
name: promo
purpose: marketing
params: [name, pdf]
steps:
  - send:
      id: s
      attempts:
        - channel: whatsapp
          template:
            name: invoice
            language: en
            header: {document: "{{.pdf}}", filename: invoice.pdf}
            body: ["{{.name}}"]
            buttons: [{index: 0, quick_reply: "STOP_PROMOS"}, {index: 1, url: "inv/{{.name}}"}]
`), testChannels())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := j.Steps[0].Send.Attempts[0].Render("+15551234567", map[string]string{"name": "Ana", "pdf": "https://x.example/i.pdf"}, RenderOptions{Channels: testChannels()})
	if err != nil {
		t.Fatal(err)
	}
	h, bs := msg.Template.Header, msg.Template.Buttons
	if h == nil || h.Media == nil || h.Media.Kind != channels.MediaDocument || h.Media.Link != "https://x.example/i.pdf" || h.Media.Filename != "invoice.pdf" {
		t.Errorf("header = %+v", h)
	}
	want := []channels.TemplateButton{{Index: 0, Kind: channels.ButtonQuickReply, Payload: "STOP_PROMOS"}, {Index: 1, Kind: channels.ButtonURL, Text: "inv/Ana"}}
	if fmt.Sprint(bs) != fmt.Sprint(want) {
		t.Errorf("buttons = %+v, want %+v", bs, want)
	}
	_, err = Parse("bad.yaml", []byte("name: b\npurpose: utility\nsteps:\n  - send:\n      id: s\n      attempts:\n        - channel: whatsapp\n          template: {name: t, language: en, header: {text: a, image: b}, buttons: [{index: 0}]}\n"), testChannels())
	for _, want := range []string{"template.header: a header has exactly one", "template.buttons[0]: a button has an index"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
