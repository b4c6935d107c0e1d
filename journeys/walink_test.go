package journeys

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

var waOpts = RenderOptions{BusinessNumber: "+15550009999", Channels: testChannels()}

// wa_link renders a wa.me link to the business number's digits, its
// arguments joined and query-escaped with spaces as %20.
func TestWALinkRender(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{{wa_link "Hi, about order 1234"}}`, "https://wa.me/15550009999?text=Hi%2C%20about%20order%201234"},
		{`{{wa_link "Hi, about order " .order_id}}`, "https://wa.me/15550009999?text=Hi%2C%20about%20order%20A%26B%231"},
		{`{{wa_link (printf "order %s" .order_id)}}`, "https://wa.me/15550009999?text=order%20A%26B%231"},
		{`{{wa_link "1+1 & more?"}}`, "https://wa.me/15550009999?text=1%2B1%20%26%20more%3F"},
		{`{{wa_link "line one\nline two"}}`, "https://wa.me/15550009999?text=line%20one%0Aline%20two"},
		{`{{wa_link "Hi 👋"}}`, "https://wa.me/15550009999?text=Hi%20%F0%9F%91%8B"},
		{`{{wa_link}}`, "https://wa.me/15550009999"},
	} {
		a := Attempt{Channel: channels.SMS, Fields: channels.Fields{"text": c.text}}
		msg, err := a.Render("+15551234567", map[string]string{"order_id": "A&B#1"}, waOpts)
		if err != nil {
			t.Errorf("%s: %v", c.text, err)
			continue
		}
		if msg.Text != c.want {
			t.Errorf("%s = %q, want %q", c.text, msg.Text, c.want)
		}
		// The text decodes back to what the customer's WhatsApp offers.
		if u, err := url.Parse(msg.Text); err != nil || u.Host != "wa.me" || strings.Contains(u.RawQuery, "+") {
			t.Errorf("%s: %q is not a wa.me link with %%20 spaces (%v)", c.text, msg.Text, err)
		}
	}
}

// Without a business number wa_link is an error naming the setting,
// never an empty link; a number not in E.164 is one too.
func TestWALinkNeedsNumber(t *testing.T) {
	a := Attempt{Channel: channels.SMS, Fields: channels.Fields{"text": `Chat: {{wa_link "hi"}}`}}
	msg, err := a.Render("+15551234567", nil, RenderOptions{Channels: testChannels()})
	if !errors.Is(err, ErrNoBusinessNumber) || !strings.Contains(err.Error(), "WHATSAPP_BUSINESS_NUMBER") || msg.Text != "" {
		t.Errorf("render without a number = %q, %v; want ErrNoBusinessNumber", msg.Text, err)
	}
	_, err = a.Render("+15551234567", nil, RenderOptions{BusinessNumber: "15550009999", Channels: testChannels()})
	if err == nil || !strings.Contains(err.Error(), "WHATSAPP_BUSINESS_NUMBER") {
		t.Errorf("render with a number without + = %v, want an error naming WHATSAPP_BUSINESS_NUMBER", err)
	}
}

// In an email's html the link stays usable in an href, and in the
// template data of a SendGrid email it is the bare link.
func TestWALinkEmail(t *testing.T) {
	a := Attempt{Channel: channels.Email, Fields: channels.Fields{"subject": "s", "html": `<a href="{{wa_link "Hi & bye"}}">chat</a>`,
		"template": map[string]any{"id": "d-x", "data": map[string]any{"chat_url": `{{wa_link "Hi & bye"}}`}}}}
	msg, err := a.Render("ana@example.com", nil, waOpts)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a href="https://wa.me/15550009999?text=Hi%20%26%20bye">chat</a>`; msg.Email.HTML != want {
		t.Errorf("html = %q, want %q", msg.Email.HTML, want)
	}
	if want := "https://wa.me/15550009999?text=Hi%20%26%20bye"; msg.Email.Data["chat_url"] != want {
		t.Errorf("data chat_url = %q, want %q", msg.Email.Data["chat_url"], want)
	}
}

// UsesWALink finds wa_link in steps and handlers, and only there: the
// built-ins with click-to-chat fallbacks use it, otp does not.
func TestUsesWALink(t *testing.T) {
	for name, want := range map[string]bool{"order_update": true, "abandoned_cart": true, "otp": false} {
		j, err := Builtin(name, testChannels())
		if err != nil {
			t.Fatal(err)
		}
		if got := j.UsesWALink(testChannels()); got != want {
			t.Errorf("%s uses wa_link = %v, want %v", name, got, want)
		}
	}
	j := Journey{On: []Handler{{Event: "e", Steps: []Step{{Send: &SendStep{Attempts: []Attempt{{Channel: channels.SMS, Fields: channels.Fields{"text": `{{if .x}}{{wa_link .x}}{{end}}`}}}}}}}}}
	if !j.UsesWALink(testChannels()) {
		t.Error("a handler's wa_link inside if is not found")
	}
	j.On[0].Steps[0].Send.Attempts[0].Fields["text"] = `{{.wa_link}} wa_link`
	if j.UsesWALink(testChannels()) {
		t.Error("a variable and a word named wa_link count as the function")
	}
}

// validate accepts wa_link and checks the variables of its arguments.
func TestValidateWALink(t *testing.T) {
	src := `
name: j
purpose: utility
params: [order_id]
steps:
  - send:
      id: s
      attempts:
        - channel: sms
          text: '{{wa_link "Hi " .order_id}} {{wa_link .nope}}'
`
	_, err := Parse("j.yaml", []byte(src), testChannels())
	if err == nil || !strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), "wa_link not defined") {
		t.Errorf("parse = %v, want only the undeclared param nope", err)
	}
}
