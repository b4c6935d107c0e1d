package email_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/sandbox"
)

func TestDriver(t *testing.T) {
	key, pub, err := sandbox.NewSendGridKey()
	if err != nil {
		t.Fatal(err)
	}
	verifyKey, err := email.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	channeltest.Run(t, channeltest.Case{
		Driver:      email.Driver{},
		Unreachable: []string{"bounce"},
		Reachable:   []string{"bounce_blocked", "dropped", "deferred", "http_429"},
		Specs: []channeltest.Spec{
			{Name: "subject and bodies", Fields: channels.Fields{"subject": "Order {{.id}}", "text": "Hi {{.name}}", "html": `<p>Hi {{.name}}</p>`},
				Vars: map[string]string{"id": "7", "name": "<b>Ana</b>"}, Check: func(t *testing.T, m channels.Message) {
					e := m.Email
					if e == nil || e.Subject != "Order 7" || e.Text != "Hi <b>Ana</b>" || strings.Contains(e.HTML, "<b>") {
						t.Errorf("rendered %+v: want the html escaped, the text verbatim", e)
					}
				}},
			{Name: "dynamic template", Fields: channels.Fields{"template": map[string]any{"id": "d-1", "data": map[string]any{"order": "{{.id}}"}}},
				Vars: map[string]string{"id": "7"}, Check: func(t *testing.T, m channels.Message) {
					if e := m.Email; e == nil || e.TemplateID != "d-1" || e.Data["order"] != "7" {
						t.Errorf("rendered %+v", e)
					}
				}},
			{Name: "no body", Fields: channels.Fields{"subject": "s"}, ParseErr: "."},
			{Name: "template without id", Fields: channels.Fields{"template": map[string]any{"data": map[string]any{"a": "b"}}}, ParseErr: ".template.id"},
			{Name: "whatsapp template fields", Fields: channels.Fields{"template": map[string]any{"id": "d-1", "name": "otp"}}, ParseErr: ".template.name"},
			{Name: "session", Fields: channels.Fields{"subject": "s", "text": "t", "session": "x"}, ParseErr: ".session"},
			{Name: "unescapable html", Fields: channels.Fields{"subject": "s", "html": `<a href="{{.x}}`}, Vars: map[string]string{"x": "y"}, RenderErr: true},
		},
		Send: channeltest.Send{
			Sender: sandboxClient(t),
			Message: func(to string) channels.Message {
				return channels.Message{Channel: channels.Email, To: to, Email: &channels.EmailContent{Subject: "s", Text: "hello"}}
			},
			OK:        sandbox.EmailDefaultRecipient,
			Permanent: sandbox.EmailRejected,
			Retryable: sandbox.EmailRateLimited,
			Unknown:   sandbox.EmailNoAnswer,
		},
		Callbacks: &channeltest.Callbacks{
			Statuses: []channels.Status{channels.StatusAccepted, channels.StatusDelivered, channels.StatusRead},
			Build: func(t *testing.T, id string, s channels.Status) *http.Request {
				return eventCallback(t, key, id, s)
			},
			Parse: func(r *http.Request) ([]channels.StatusUpdate, error) {
				return parseEvents(email.Verifier{Key: verifyKey}, r)
			},
		},
	})
}

// sandboxClient returns a SendGrid client of the sandbox's lookalike.
func sandboxClient(t *testing.T) *email.Client {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	sb, err := sandbox.New(sandbox.Config{WhatsAppWebhookURL: sink.URL, AppSecret: "s", AccessToken: "token", PhoneNumberID: "1",
		TwilioAccountSID: "ACtest", TwilioAuthToken: "token", SendGridAPIKey: "SG.test", SendGridWebhookURL: sink.URL, StatusDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	c, err := email.NewClient(email.Config{APIURL: srv.URL, APIKey: "SG.test", From: "shop@example.com",
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kinds are the Event Webhook's event of each status.
var kinds = map[channels.Status]string{channels.StatusAccepted: "processed", channels.StatusDelivered: "delivered", channels.StatusRead: "open"}

// eventCallback is an Event Webhook post of one event, signed.
func eventCallback(t *testing.T, key *ecdsa.PrivateKey, id string, s channels.Status) *http.Request {
	body, err := json.Marshal([]map[string]any{{"email": "someone@example.com", "event": kinds[s],
		"sg_message_id": id + ".filterdrecv-1", "sg_event_id": id + "-" + kinds[s], "timestamp": time.Now().Unix()}})
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := sandbox.SendGridSignature(key, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/sendgrid", bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Header.Set(email.SignatureHeader, sig)
	r.Header.Set(email.TimestampHeader, ts)
	return r
}

// parseEvents checks a post's signature and returns its statuses.
func parseEvents(v email.Verifier, r *http.Request) ([]channels.StatusUpdate, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if err := v.Verify(body, r.Header.Get(email.SignatureHeader), r.Header.Get(email.TimestampHeader)); err != nil {
		return nil, err
	}
	events, err := email.ParseEvents(body)
	if err != nil {
		return nil, err
	}
	var ups []channels.StatusUpdate
	for _, ev := range events {
		if u, ok := ev.StatusUpdate(); ok {
			ups = append(ups, u)
		}
	}
	return ups, nil
}
