package webhook_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/webhook"
)

func TestDriver(t *testing.T) {
	secret := newSecret(t)
	_, srv := newReceiver(t, secret)
	client, err := webhook.NewClient(webhook.Options{Secret: secret, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	channeltest.Run(t, channeltest.Case{
		Driver: webhook.Driver{},
		// No code makes a contact unreachable: the receiver is the
		// business's system (channeltest allows this for AddressNone).
		Reachable: []string{"http_500", "http_410", "http_404", "http_429", "no_answer", "network"},
		Specs:     specs(),
		Send: channeltest.Send{
			Sender: client,
			Message: func(to string) channels.Message {
				return message(t, srv.URL+to, 1)
			},
			OK:        "/support/handoff",
			Permanent: "/status/404",
			Retryable: "/status/503",
			// A request left unanswered is retried, not of unknown
			// outcome: the retry carries the same webhook-id, which the
			// receiver de-duplicates on (TestHangIsRetried).
		},
	})
}

func specs() []channeltest.Spec {
	valid := func() channels.Fields {
		return channels.Fields{
			"url": "https://support.example.com/hooks/switchback?tenant=acme",
			"body": map[string]any{
				"event":    "otp_undeliverable",
				"customer": "{{.customer}}",
				"tries":    3,
				"detail":   map[string]any{"journey": "otp", "tags": []any{"{{.customer}}-tag", true, nil}},
			},
			"headers": map[string]any{"X-Tenant": "{{.tenant}}"},
		}
	}
	with := func(k string, v any) channels.Fields {
		f := valid()
		f[k] = v
		return f
	}
	vars := map[string]string{"customer": "c-42", "tenant": "acme"}
	return []channeltest.Spec{
		{Name: "valid", Fields: valid(), Vars: vars, Check: checkValid},
		{Name: "unknown field", Fields: with("text", "hi"), ParseErr: ".text"},
		{Name: "no url", Fields: with("url", ""), ParseErr: ".url"},
		{Name: "relative url", Fields: with("url", "/hooks"), ParseErr: ".url"},
		{Name: "templated url", Fields: with("url", "https://support.example.com/{{.customer}}"), ParseErr: ".url"},
		{Name: "http to a non-loopback host", Fields: with("url", "http://support.example.com/hooks"), ParseErr: ".url"},
		{Name: "credentials in url", Fields: with("url", "https://user:pw@support.example.com/hooks"), ParseErr: ".url"},
		{Name: "body not an object", Fields: with("body", []any{"a"}), ParseErr: ".body"},
		{Name: "no body", Fields: channels.Fields{"url": "https://support.example.com/"}, ParseErr: ".body"},
		{Name: "signature header", Fields: with("headers", map[string]any{"Webhook-Signature": "v1,x"}), ParseErr: ".headers.Webhook-Signature"},
		{Name: "hop-by-hop header", Fields: with("headers", map[string]any{"Connection": "close"}), ParseErr: ".headers.Connection"},
		{Name: "header value not a string", Fields: with("headers", map[string]any{"X-Tenant": 3}), ParseErr: ".headers.X-Tenant"},
		{Name: "header twice", Fields: with("headers", map[string]any{"X-Tenant": "a", "x-tenant": "b"}), ParseErr: ".headers.x-tenant"},
		{Name: "bad header name", Fields: with("headers", map[string]any{"X Tenant": "a"}), ParseErr: ".headers.X Tenant"},
		{
			Name:      "rendered body too large",
			Fields:    with("body", map[string]any{"note": "{{.note}}"}),
			Vars:      map[string]string{"note": strings.Repeat("x", webhook.MaxBodySize)},
			RenderErr: true,
		},
		{Name: "missing variable", Fields: valid(), Vars: map[string]string{"tenant": "acme"}, RenderErr: true},
		{Name: "loopback http", Fields: with("url", "http://127.0.0.1:8080/hooks"), Vars: vars},
	}
}

func checkValid(t *testing.T, msg channels.Message) {
	var p webhook.Payload
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		t.Fatalf("payload: %v", err)
	}
	want := `{"customer":"c-42","detail":{"journey":"otp","tags":["c-42-tag",true,null]},"event":"otp_undeliverable","tries":3}`
	if string(p.Body) != want {
		t.Errorf("body %s, want %s", p.Body, want)
	}
	if p.URL != "https://support.example.com/hooks/switchback?tenant=acme" || p.Headers["X-Tenant"] != "acme" {
		t.Errorf("payload url %q, headers %v", p.URL, p.Headers)
	}
}

// newSecret returns a fresh signing secret.
func newSecret(t *testing.T) string {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// message returns a rendered webhook message to url, of attempt n.
func message(t *testing.T, url string, n int) channels.Message {
	t.Helper()
	content, err := webhook.Driver{}.Parse(channels.Fields{
		"url":     url,
		"body":    map[string]any{"event": "otp_undeliverable", "customer": "{{.customer}}"},
		"headers": map[string]any{"X-Tenant": "acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := channels.Message{
		Channel:     webhook.Channel,
		Correlation: channels.Correlation{WorkflowID: "otp-7f3a", Attempt: n},
	}
	r := textRenderer{"customer": "c-42"}
	if err := content.Render(r, &msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

// textRenderer replaces {{.name}} with vars[name]; enough for these tests.
type textRenderer map[string]string

func (r textRenderer) Text(_, text string) string {
	for k, v := range r {
		text = strings.ReplaceAll(text, "{{."+k+"}}", v)
	}
	return text
}

func (r textRenderer) HTML(field, text string) string { return r.Text(field, text) }

func TestTextsAndDescribe(t *testing.T) {
	content, err := webhook.Driver{}.Parse(specs()[0].Fields)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tx := range content.Texts() {
		got = append(got, tx.Field+"="+tx.Text)
	}
	want := []string{
		".body.customer={{.customer}}",
		".body.detail.journey=otp",
		".body.detail.tags[0]={{.customer}}-tag",
		".body.event=otp_undeliverable",
		".headers.X-Tenant={{.tenant}}",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Texts:\n %v\nwant\n %v", got, want)
	}
	if d := content.Describe(); d != "webhook POST to support.example.com" {
		t.Errorf("Describe = %q: want the host only", d)
	}
}

// TestExampleJourney parses the webhook attempts of the example journey
// that hands an undeliverable code to support, and checks they never
// send the code.
func TestExampleJourney(t *testing.T) {
	b, err := os.ReadFile("../../docs/examples/otp_support.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Steps []struct {
			Send *struct {
				Attempts []map[string]any `yaml:"attempts"`
			} `yaml:"send"`
		} `yaml:"steps"`
	}
	if err := yaml.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, s := range j.Steps {
		if s.Send == nil {
			continue
		}
		for _, a := range s.Send.Attempts {
			if a["channel"] != string(webhook.Channel) {
				continue
			}
			n++
			f := channels.Fields{}
			for k, v := range a {
				if k != "channel" && k != "await" && k != "within" {
					f[k] = v
				}
			}
			content, err := webhook.Driver{}.Parse(f)
			if err != nil {
				t.Fatalf("webhook attempt: %v", err)
			}
			for _, tx := range content.Texts() {
				if strings.Contains(tx.Text, ".code") {
					t.Errorf("%s sends the code: %q", tx.Field, tx.Text)
				}
			}
		}
	}
	if n == 0 {
		t.Error("the example has no webhook attempt")
	}
}
