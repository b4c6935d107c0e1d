package whatsapp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	return []channeltest.Spec{
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
