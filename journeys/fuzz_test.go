package journeys

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the journey loader: nothing panics,
// and what it accepts validates, and survives the JSON round trip a
// journey makes into a workflow input.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("otp.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("name: x\npurpose: utility\nsteps: [{send: {id: a, attempts: [{channel: sms, text: \"{{.code\"}]}}]\n"))
	f.Add([]byte("name: x\npurpose: utility\nexpire: -5s\nsteps: []\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Add([]byte("name: !!binary AAAA\n"))
	f.Add([]byte("steps:\n  - send:\n      attempts:\n        - channel: whatsapp\n          within: 99999999999h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := Parse("fuzz.yaml", data, testChannels())
		if err != nil {
			return
		}
		if err := j.Validate(testChannels()); err != nil {
			t.Fatalf("Parse accepted a journey that does not validate: %v", err)
		}
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatalf("marshal accepted journey: %v", err)
		}
		var back Journey
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("accepted journey does not survive JSON: %v\n%s", err, b)
		}
	})
}

// FuzzRenderVariable renders an otp-like journey with an arbitrary
// code: nothing panics, and the value lands verbatim in every place that
// uses it. Template syntax, HTML, quotes or control characters in a
// variable are never evaluated or escaped.
func FuzzRenderVariable(f *testing.F) {
	for _, v := range []string{"493817", "{{.code}}", "{{template \"x\"}}", "<script>alert(1)</script>", "\u202e\u0000'\"; --", "🙂🙂", "%s%n"} {
		f.Add(v)
	}
	otp, err := Parse("fuzz.yaml", []byte(`
name: fuzz
purpose: authentication
params:
  - {name: code}
steps:
  - send:
      attempts:
        - channel: whatsapp
          template: {name: otp_code, language: en_US, body: ["{{.code}}"], button_url: ["{{.code}}"]}
        - channel: sms
          text: "Your code is {{.code}}."
`), testChannels())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code string) {
		vars := map[string]string{"code": code}
		if otp.CheckVars(vars) != nil {
			return
		}
		for _, step := range otp.Steps {
			if step.Send == nil {
				continue
			}
			for _, a := range step.Send.Attempts {
				msg, err := a.Render("+15551234567", vars, RenderOptions{Channels: testChannels()})
				if err != nil {
					t.Fatalf("render %s: %v", a.Channel, err)
				}
				if msg.Template != nil && (!slices.Contains(msg.Template.Body, code) || !slices.Contains(msg.Template.ButtonURL, code)) {
					t.Fatalf("template %+v does not carry %q verbatim", msg.Template, code)
				}
			}
		}
	})
}
