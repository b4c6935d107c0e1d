package whatsapp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/sandbox"
)

const (
	testPhoneNumberID = "100000000000001"
	testAppSecret     = "app-secret"
)

func TestDriver(t *testing.T) {
	client := sandboxClient(t)
	channeltest.Run(t, channeltest.Case{
		Driver:      whatsapp.Driver{},
		Unreachable: []string{"131026"},
		Reachable:   []string{"131047", "130429", "132000", "131049"},
		Specs:       specs(),
		Send: channeltest.Send{
			Sender: client,
			Message: func(to string) channels.Message {
				return channels.Message{Channel: channels.WhatsApp, To: to, Text: "hello"}
			},
			OK:        sandbox.DefaultRecipient,
			Permanent: sandbox.WhatsAppWindowClosed,
			Retryable: sandbox.WhatsAppRateLimited,
			Unknown:   sandbox.NoAnswer,
		},
		Callbacks: &channeltest.Callbacks{
			Statuses: []channels.Status{channels.StatusSent, channels.StatusDelivered, channels.StatusRead},
			Build:    statusCallback,
			Parse:    parseCallback,
		},
	})
}

func specs() []channeltest.Spec {
	otp := channels.Fields{"template": map[string]any{"name": "otp_code", "language": "en_US", "body": []any{"{{.code}}"}, "button_url": []any{"{{.code}}"}}}
	return append([]channeltest.Spec{
		{Name: "template", Fields: otp, Vars: map[string]string{"code": "493817"}, Check: func(t *testing.T, m channels.Message) {
			if m.Template == nil || m.Template.Name != "otp_code" || m.Template.Body[0] != "493817" || m.Template.ButtonURL[0] != "493817" {
				t.Errorf("rendered template %+v", m.Template)
			}
		}},
		{Name: "session and template", Fields: channels.Fields{"session": "Hi {{.name}}", "template": otp["template"]}, Vars: map[string]string{"name": "Ana", "code": "1"},
			Check: func(t *testing.T, m channels.Message) {
				if m.Text != "Hi Ana" || m.Template == nil {
					t.Errorf("rendered %q and %+v: want both, the journey picks by the window", m.Text, m.Template)
				}
			}},
		{Name: "header and buttons", Fields: channels.Fields{"template": map[string]any{"name": "t", "language": "en", "header": map[string]any{"document": "https://x.example/{{.id}}.pdf", "filename": "r.pdf"},
			"buttons": []any{map[string]any{"index": 1, "quick_reply": "stop-{{.id}}"}}}}, Vars: map[string]string{"id": "7"},
			Check: func(t *testing.T, m channels.Message) {
				h, b := m.Template.Header, m.Template.Buttons
				if h == nil || h.Media == nil || h.Media.Kind != channels.MediaDocument || h.Media.Link != "https://x.example/7.pdf" || len(b) != 1 || b[0].Payload != "stop-7" || b[0].Index != 1 {
					t.Errorf("rendered header %+v, buttons %+v", h, b)
				}
			}},
		{Name: "nothing to send", Fields: channels.Fields{}, ParseErr: "."},
		{Name: "sms text", Fields: channels.Fields{"text": "hi"}, ParseErr: ".text"},
		{Name: "template without language", Fields: channels.Fields{"template": map[string]any{"name": "t"}}, ParseErr: ".template.language"},
		{Name: "two headers", Fields: channels.Fields{"template": map[string]any{"name": "t", "language": "en", "header": map[string]any{"text": "a", "image": "b"}}}, ParseErr: ".template.header"},
		{Name: "button index", Fields: channels.Fields{"template": map[string]any{"name": "t", "language": "en", "buttons": []any{map[string]any{"index": 12, "url": "x"}}}}, ParseErr: ".template.buttons[0]"},
		{Name: "session too long", Fields: channels.Fields{"session": "{{.long}}"}, Vars: map[string]string{"long": string(bytes.Repeat([]byte("é"), whatsapp.MaxSessionText+1))}, RenderErr: true},
		{Name: "missing variable", Fields: channels.Fields{"session": "{{.nope}}"}, RenderErr: true},
	}, sessionSpecs()...)
}

// buttons returns a session with reply buttons titled titles, ids b0, b1, ...
func buttons(titles ...string) map[string]any {
	var bs []any
	for i, t := range titles {
		bs = append(bs, map[string]any{"id": fmt.Sprintf("b%d", i), "title": t})
	}
	return map[string]any{"text": "Choose", "buttons": bs}
}

// list returns a session with a list of one section holding rows.
func list(rows ...map[string]any) map[string]any {
	var rs []any
	for _, r := range rows {
		rs = append(rs, r)
	}
	return map[string]any{"text": "Menu", "list": map[string]any{"button": "Options", "sections": []any{map[string]any{"rows": rs}}}}
}

func row(id, title string) map[string]any { return map[string]any{"id": id, "title": title} }

// with returns m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := maps.Clone(m)
	out[k] = v
	return out
}

func session(v any) channels.Fields { return channels.Fields{"session": v} }

// sessionSpecs are the interactive and media session forms, valid and
// each limit broken.
func sessionSpecs() []channeltest.Spec {
	long := func(n int) string { return strings.Repeat("x", n) }
	media := func(m map[string]any) channels.Fields { return session(map[string]any{"media": m}) }
	return []channeltest.Spec{
		{Name: "session mapping text", Fields: session(map[string]any{"text": "Hi {{.name}}"}), Vars: map[string]string{"name": "Ana"},
			Check: func(t *testing.T, m channels.Message) {
				if m.Text != "Hi Ana" || m.Interactive != nil || m.Media != nil {
					t.Errorf("rendered %+v, want text", m)
				}
			}},
		{Name: "reply buttons", Fields: session(with(with(buttons("Track {{.order}}", "Agent"), "header", "Order {{.order}}"), "footer", "Shop")),
			Vars: map[string]string{"order": "A7"}, Check: func(t *testing.T, m channels.Message) {
				in := m.Interactive
				if in == nil || in.Kind != channels.InteractiveButtons || in.Body != "Choose" || in.Header.Text != "Order A7" || in.Footer != "Shop" ||
					len(in.Buttons) != 2 || in.Buttons[0] != (channels.ReplyButton{ID: "b0", Title: "Track A7"}) || m.Text != "" {
					t.Errorf("rendered %+v, want reply buttons", in)
				}
			}},
		{Name: "list", Fields: session(list(row("track", "Track my order"), map[string]any{"id": "hours", "title": "Opening hours", "description": "When we answer"})),
			Check: func(t *testing.T, m channels.Message) {
				in := m.Interactive
				if in == nil || in.Kind != channels.InteractiveList || in.ListButton != "Options" || len(in.Sections) != 1 ||
					len(in.Sections[0].Rows) != 2 || in.Sections[0].Rows[1].Description != "When we answer" {
					t.Errorf("rendered %+v, want a list", in)
				}
			}},
		{Name: "document by link", Fields: media(map[string]any{"kind": "document", "link": "https://x.example/{{.id}}.pdf", "caption": "Receipt", "filename": "r.pdf"}),
			Vars: map[string]string{"id": "7"}, Check: func(t *testing.T, m channels.Message) {
				want := channels.Media{Kind: channels.MediaDocument, Link: "https://x.example/7.pdf", Caption: "Receipt", Filename: "r.pdf"}
				if m.Media == nil || *m.Media != want {
					t.Errorf("rendered %+v, want %+v", m.Media, want)
				}
			}},
		{Name: "audio by id", Fields: media(map[string]any{"kind": "audio", "id": "1479537139650973"}), Check: func(t *testing.T, m channels.Message) {
			if m.Media == nil || m.Media.ID != "1479537139650973" || m.Media.Kind != channels.MediaAudio {
				t.Errorf("rendered %+v", m.Media)
			}
		}},
		{Name: "buttons and template", Fields: channels.Fields{"session": buttons("Yes"), "template": map[string]any{"name": "t", "language": "en"}},
			Check: func(t *testing.T, m channels.Message) {
				if m.Interactive == nil || m.Template == nil {
					t.Errorf("rendered %+v: want both, the journey picks by the window", m)
				}
			}},
		{Name: "four buttons", Fields: session(buttons("a", "b", "c", "d")), ParseErr: ".session.buttons"},
		{Name: "button title", Fields: session(buttons("ok", long(21))), ParseErr: ".session.buttons[1].title"},
		{Name: "button id", Fields: session(map[string]any{"text": "?", "buttons": []any{map[string]any{"id": long(257), "title": "a"}}}), ParseErr: ".session.buttons[0].id"},
		{Name: "button without id", Fields: session(map[string]any{"text": "?", "buttons": []any{map[string]any{"title": "a"}}}), ParseErr: ".session.buttons[0].id"},
		{Name: "same title twice", Fields: session(buttons("ok", "ok")), ParseErr: ".session.buttons[1].title"},
		{Name: "buttons body", Fields: session(with(buttons("a"), "text", long(1025))), ParseErr: ".session.text"},
		{Name: "buttons without body", Fields: session(with(buttons("a"), "text", "")), ParseErr: ".session.text"},
		{Name: "header", Fields: session(with(buttons("a"), "header", long(61))), ParseErr: ".session.header"},
		{Name: "footer", Fields: session(with(buttons("a"), "footer", long(61))), ParseErr: ".session.footer"},
		{Name: "footer on text", Fields: session(map[string]any{"text": "hi", "footer": "x"}), ParseErr: ".session.footer"},
		{Name: "buttons and list", Fields: session(with(buttons("a"), "list", list(row("r", "R"))["list"])), ParseErr: ".session"},
		{Name: "row title", Fields: session(list(row("a", long(25)))), ParseErr: ".session.list.sections[0].rows[0].title"},
		{Name: "row id", Fields: session(list(row(long(201), "a"))), ParseErr: ".session.list.sections[0].rows[0].id"},
		{Name: "row description", Fields: session(list(map[string]any{"id": "a", "title": "A", "description": long(73)})), ParseErr: ".session.list.sections[0].rows[0].description"},
		{Name: "eleven rows", Fields: session(list(row("1", "1"), row("2", "2"), row("3", "3"), row("4", "4"), row("5", "5"), row("6", "6"),
			row("7", "7"), row("8", "8"), row("9", "9"), row("10", "10"), row("11", "11"))), ParseErr: ".session.list.sections"},
		{Name: "list button", Fields: session(map[string]any{"text": "?", "list": map[string]any{"button": long(21), "sections": []any{map[string]any{"rows": []any{row("a", "A")}}}}}), ParseErr: ".session.list.button"},
		{Name: "untitled sections", Fields: session(map[string]any{"text": "?", "list": map[string]any{"button": "b", "sections": []any{
			map[string]any{"title": "One", "rows": []any{row("a", "A")}}, map[string]any{"rows": []any{row("b", "B")}}}}}), ParseErr: ".session.list.sections[1].title"},
		{Name: "section title", Fields: session(map[string]any{"text": "?", "list": map[string]any{"button": "b", "sections": []any{
			map[string]any{"title": long(25), "rows": []any{row("a", "A")}}}}}), ParseErr: ".session.list.sections[0].title"},
		{Name: "media kind", Fields: media(map[string]any{"kind": "sticker", "id": "1"}), ParseErr: ".session.media.kind"},
		{Name: "media link and id", Fields: media(map[string]any{"kind": "image", "id": "1", "link": "https://x.example/a.png"}), ParseErr: ".session.media"},
		{Name: "http link", Fields: media(map[string]any{"kind": "image", "link": "http://x.example/a.png"}), ParseErr: ".session.media.link"},
		{Name: "caption on audio", Fields: media(map[string]any{"kind": "audio", "id": "1", "caption": "hi"}), ParseErr: ".session.media.caption"},
		{Name: "caption length", Fields: media(map[string]any{"kind": "image", "id": "1", "caption": long(1025)}), ParseErr: ".session.media.caption"},
		{Name: "filename on image", Fields: media(map[string]any{"kind": "image", "id": "1", "filename": "a.png"}), ParseErr: ".session.media.filename"},
		{Name: "text with media", Fields: session(map[string]any{"text": "hi", "media": map[string]any{"kind": "image", "id": "1"}}), ParseErr: ".session.text"},
		{Name: "unknown session field", Fields: session(map[string]any{"text": "hi", "emoji": "x"}), ParseErr: ".session.emoji"},
		{Name: "empty session mapping", Fields: session(map[string]any{}), ParseErr: "."},
		{Name: "rendered title too long", Fields: session(buttons("{{.name}}")), Vars: map[string]string{"name": long(21)}, RenderErr: true},
		{Name: "rendered link not https", Fields: media(map[string]any{"kind": "image", "link": "{{.url}}"}), Vars: map[string]string{"url": "http://x.example/a.png"}, RenderErr: true},
	}
}

// sandboxClient returns a Cloud API client of the sandbox's lookalike,
// whose callbacks go to a server that takes them.
func sandboxClient(t *testing.T) *whatsapp.Client {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	sb, err := sandbox.New(sandbox.Config{WhatsAppWebhookURL: sink.URL, AppSecret: testAppSecret, AccessToken: "token",
		PhoneNumberID: testPhoneNumberID, TwilioAccountSID: "ACtest", TwilioAuthToken: "twilio-token", StatusDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	c, err := whatsapp.NewClient(whatsapp.Config{APIURL: srv.URL + "/v23.0", PhoneNumberID: testPhoneNumberID, AccessToken: "token",
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statusCallback is the Cloud API's status notification, signed.
func statusCallback(t *testing.T, id string, s channels.Status) *http.Request {
	status := map[string]any{"id": id, "status": string(s), "timestamp": "1700000000", "recipient_id": "15551234567"}
	n := map[string]any{"object": whatsapp.ObjectWhatsAppBusinessAccount, "entry": []any{map[string]any{"id": "1", "changes": []any{
		map[string]any{"field": whatsapp.FieldMessages, "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"phone_number_id": testPhoneNumberID},
			"statuses": []any{status}}}}}}}
	body, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Header.Set("X-Hub-Signature-256", sandbox.WhatsAppSignature(testAppSecret, body))
	return r
}

// parseCallback checks a notification's signature and returns its statuses.
func parseCallback(r *http.Request) ([]channels.StatusUpdate, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if err := whatsapp.VerifySignature(body, r.Header.Get("X-Hub-Signature-256"), testAppSecret); err != nil {
		return nil, err
	}
	n, err := whatsapp.ParseNotification(body)
	if err != nil {
		return nil, err
	}
	var ups []channels.StatusUpdate
	for _, ev := range n.StatusEvents() {
		ups = append(ups, ev.Update)
	}
	return ups, nil
}
