package journeys

import (
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

// An email's html escapes each variable for where it stands: a variable
// with markup adds no tag and no attribute, in text or in a link.
func TestRenderEmailHTMLEscapes(t *testing.T) {
	a := Attempt{Channel: channels.Email, Fields: channels.Fields{"subject": "Hi {{.name}}", "text": "Hi {{.name}}, see {{.link}}",
		"html": `<p>Hi {{.name}}</p><a href="{{.link}}">track</a>`}}
	vars := map[string]string{"name": `<b onclick="x()">Ana</b>`, "link": `javascript:alert(1)`}
	msg, err := a.Render("ana@example.com", vars, RenderOptions{Channels: testChannels()})
	if err != nil {
		t.Fatal(err)
	}
	html := msg.Email.HTML
	for _, bad := range []string{"<b", `onclick="x()"`, "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("html %q carries %q from a variable", html, bad)
		}
	}
	if !strings.Contains(html, "&lt;b onclick=&#34;x()&#34;&gt;Ana&lt;/b&gt;") {
		t.Errorf("html %q does not show the name as text", html)
	}
	// Subject and text are not HTML: they carry the variable as it is.
	if msg.Email.Subject != "Hi "+vars["name"] || !strings.Contains(msg.Email.Text, vars["link"]) {
		t.Errorf("subject %q, text %q: want the variables verbatim", msg.Email.Subject, msg.Email.Text)
	}
	htmlOnly := Attempt{Channel: a.Channel, Fields: channels.Fields{"subject": "hi", "html": a.Fields["html"]}}
	if _, err := htmlOnly.Render("ana@example.com", map[string]string{"name": "Ana"}, RenderOptions{Channels: testChannels()}); err == nil || !strings.Contains(err.Error(), "html") {
		t.Errorf("render without link = %v, want an error naming html", err)
	}
}

// An html body that html/template cannot escape is refused at load.
func TestValidateEmailHTML(t *testing.T) {
	_, err := Parse("mail.yaml", []byte(`
name: mail
purpose: utility
params: [name]
steps:
  - send:
      id: s
      attempts:
        - channel: email
          subject: hi
          html: '<a href="{{.name}}'
`), testChannels())
	if want := "mail.yaml:11: step s: steps[0].send.attempts[0].html: bad html template"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestURLParam(t *testing.T) {
	p := Param{Name: "tracking_url", Type: "url"}
	for _, ok := range []string{"https://track.example/A1?x=1&y=%22", "http://localhost:8080/a#b"} {
		if err := p.check(ok); err != nil {
			t.Errorf("check(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{
		`https://x/" onmouseover="alert(1)`, "https://x/'a", "https://x/<b>", "https://x/a b", "https://x/a\tb", "https://x/`a`",
		"javascript:alert(1)", "/relative", "ftp://x/a", "https://",
	} {
		if err := p.check(bad); err == nil {
			t.Errorf("check(%q) = nil, want an error", bad)
		}
	}
}
