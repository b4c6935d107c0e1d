package sms_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/sandbox"
)

const (
	testAccountSID = "ACtest"
	testAuthToken  = "twiliotoken"
	callbackURL    = "https://switchback.example/webhooks/twilio/status"
)

func TestDriver(t *testing.T) {
	channeltest.Run(t, channeltest.Case{
		Driver:      sms.Driver{},
		Unreachable: []string{"21211", "21614", "30005", "30006"},
		Reachable:   []string{"30003", "30007", "20429", "63038"},
		Specs: []channeltest.Spec{
			{Name: "text", Fields: channels.Fields{"text": "Your code is {{.code}}"}, Vars: map[string]string{"code": "4242"},
				Check: func(t *testing.T, m channels.Message) {
					if m.Text != "Your code is 4242" {
						t.Errorf("text %q", m.Text)
					}
				}},
			{Name: "no text", Fields: channels.Fields{}, ParseErr: ".text"},
			{Name: "whatsapp template", Fields: channels.Fields{"text": "hi", "template": map[string]any{"name": "t"}}, ParseErr: ".template"},
			{Name: "text not a string", Fields: channels.Fields{"text": []any{"a"}}, ParseErr: ".text"},
			{Name: "too long", Fields: channels.Fields{"text": "{{.v}}"}, Vars: map[string]string{"v": strings.Repeat("x", sms.MaxText+1)}, RenderErr: true},
		},
		Send: channeltest.Send{
			Sender: sandboxClient(t),
			Message: func(to string) channels.Message {
				return channels.Message{Channel: channels.SMS, To: to, Text: "hello"}
			},
			OK:          sandbox.DefaultRecipient,
			Permanent:   sandbox.SMSInvalid,
			Retryable:   sandbox.SMSRateLimited,
			Unknown:     sandbox.NoAnswer,
			Unreachable: sandbox.SMSInvalid,
		},
		Callbacks: &channeltest.Callbacks{
			Statuses: []channels.Status{channels.StatusSent, channels.StatusDelivered},
			Build:    statusCallback,
			Parse:    parseCallback,
		},
	})
}

// sandboxClient returns a Twilio client of the sandbox's lookalike.
func sandboxClient(t *testing.T) *twilio.Client {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{WhatsAppWebhookURL: "http://127.0.0.1:9/", AppSecret: "s", AccessToken: "token",
		PhoneNumberID: "1", TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, StatusDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	c, err := twilio.NewClient(twilio.Config{APIURL: srv.URL, AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+15005550006",
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statusCallback is Twilio's status callback, signed.
func statusCallback(t *testing.T, id string, s channels.Status) *http.Request {
	form := url.Values{"MessageSid": {id}, "MessageStatus": {string(s)}, "To": {"+15551234567"}}
	body := form.Encode()
	r := httptest.NewRequest(http.MethodPost, callbackURL, strings.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", sandbox.TwilioSignature(testAuthToken, callbackURL, form))
	return r
}

// parseCallback checks a callback's signature and returns its status.
func parseCallback(r *http.Request) ([]channels.StatusUpdate, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if !twilio.VerifySignature(testAuthToken, callbackURL, body, r.Header.Get("X-Twilio-Signature")) {
		return nil, errors.New("bad signature")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	u, _, _, err := twilio.ParseStatusCallback(r.URL.Query(), form)
	if err != nil {
		return nil, err
	}
	return []channels.StatusUpdate{u}, nil
}
