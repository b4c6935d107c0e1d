package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/sandbox"
)

const testContentSID = "HX0123456789abcdef0123456789abcdef"

func newTestWhatsApp(t *testing.T, f http.Handler) *WhatsAppClient {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewWhatsAppClient(WhatsAppConfig{
		APIURL:            srv.URL,
		AccountSID:        testSID,
		AuthToken:         testToken,
		From:              "+15017122661",
		StatusCallbackURL: "https://hooks.example.com/webhooks/twilio/status",
		Content:           map[string]string{"otp:en_US": testContentSID},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWhatsAppSendTemplate(t *testing.T) {
	f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
	c := newTestWhatsApp(t, f)
	res, err := c.Send(context.Background(), channels.Message{
		Channel:     channels.WhatsApp,
		To:          "+15558675310",
		Template:    &channels.Template{Name: "otp", Language: "en-US", Body: []string{"Ana", "493817"}, ButtonURL: []string{"c/1"}},
		Correlation: channels.Correlation{WorkflowID: "otp/1", Attempt: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := channels.SendResult{Provider: "twilio", MessageID: "SM1f0e8ae6ade43cb3c0ce4525424e404f", Status: channels.StatusAccepted}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if f.path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" || f.user != testSID || f.pass != testToken {
		t.Errorf("request to %s as %s:%s", f.path, f.user, f.pass)
	}
	form := f.form
	for key, want := range map[string]string{
		"To":             "whatsapp:+15558675310",
		"From":           "whatsapp:+15017122661",
		"ContentSid":     testContentSID,
		"StatusCallback": "https://hooks.example.com/webhooks/twilio/status?sb_wf=otp%2F1&sb_attempt=2",
		"Body":           "",
	} {
		if got := form.Get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(form.Get("ContentVariables")), &vars); err != nil {
		t.Fatalf("ContentVariables %q: %v", form.Get("ContentVariables"), err)
	}
	if len(vars) != 3 || vars["1"] != "Ana" || vars["2"] != "493817" || vars["3"] != "c/1" {
		t.Errorf("ContentVariables = %v", vars)
	}
}

func TestWhatsAppSendSession(t *testing.T) {
	f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
	c := newTestWhatsApp(t, f)
	if _, err := c.Send(context.Background(), channels.Message{To: "whatsapp:+15558675310", Text: "Thanks!"}); err != nil {
		t.Fatal(err)
	}
	if f.form.Get("Body") != "Thanks!" || f.form.Get("To") != "whatsapp:+15558675310" || f.form.Has("ContentSid") {
		t.Errorf("form = %v", f.form)
	}
	if _, err := c.Send(context.Background(), channels.Message{To: "+15558675310",
		Media: &channels.Media{Kind: channels.MediaImage, Link: "https://cdn.example.com/a.png", Caption: "Your receipt"}}); err != nil {
		t.Fatal(err)
	}
	if f.form.Get("MediaUrl") != "https://cdn.example.com/a.png" || f.form.Get("Body") != "Your receipt" {
		t.Errorf("form = %v", f.form)
	}
}

func TestWhatsAppRefusedBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		msg  channels.Message
		code string
	}{
		{"template not mapped", channels.Message{To: "+15558675310", Template: &channels.Template{Name: "cart", Language: "en_US"}}, CodeTemplateNotMapped},
		{"language not mapped", channels.Message{To: "+15558675310", Template: &channels.Template{Name: "otp", Language: "pt_BR"}}, CodeTemplateNotMapped},
		{"header", channels.Message{To: "+15558675310", Template: &channels.Template{Name: "otp", Language: "en_US", Header: &channels.Header{Text: "x"}}}, "unsupported_template_parameters"},
		{"bad recipient", channels.Message{To: "5558675310x", Text: "hi"}, "invalid_recipient"},
		{"interactive", channels.Message{To: "+15558675310", Interactive: &channels.Interactive{Kind: channels.InteractiveButtons, Body: "?"}}, "invalid_message"},
		{"media id", channels.Message{To: "+15558675310", Media: &channels.Media{Kind: channels.MediaImage, ID: "123"}}, "invalid_message"},
		{"empty", channels.Message{To: "+15558675310"}, "invalid_message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
			c := newTestWhatsApp(t, f)
			_, err := c.Send(context.Background(), tt.msg)
			var se *channels.SendError
			if !errors.As(err, &se) || se.Code != tt.code || !se.Permanent || se.Channel != channels.WhatsApp {
				t.Fatalf("err = %v, want permanent whatsapp %s", err, tt.code)
			}
			if tt.code == CodeTemplateNotMapped && !strings.Contains(se.Reason, "WHATSAPP_TWILIO_CONTENT") {
				t.Errorf("reason %q does not name WHATSAPP_TWILIO_CONTENT", se.Reason)
			}
			if f.calls.Load() != 0 {
				t.Errorf("%d calls to Twilio", f.calls.Load())
			}
		})
	}
}

func TestWhatsAppErrorClassification(t *testing.T) {
	tests := []struct {
		status, code int
		retryable    bool
	}{
		{400, codeWAWindowClosed, false},
		{400, codeWAMarketingHeld, false},
		{429, codeWARateLimit, true},
		{400, codeWARateLimit, true},
		{400, codeWADailyLimit, true},
		{429, 20429, true},
		{400, 21211, false},
		{400, 21654, false},
		{503, 20503, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.status, tt.code), func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"code": tt.code, "message": "refused", "status": tt.status})
			c := newTestWhatsApp(t, &fakeTwilio{status: tt.status, body: string(body)})
			_, err := c.Send(context.Background(), channels.Message{To: "+15558675310", Text: "hi"})
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			if se.Permanent == tt.retryable || se.Channel != channels.WhatsApp || se.Provider != Provider {
				t.Errorf("code %d: %+v, want retryable=%v", tt.code, se, tt.retryable)
			}
		})
	}
}

func TestContentVariables(t *testing.T) {
	got, err := ContentVariables(&channels.Template{Name: "x"})
	if err != nil || got != "" {
		t.Errorf("no parameters: %q, %v", got, err)
	}
	body := make([]string, 11)
	for i := range body {
		body[i] = string(rune('a' + i))
	}
	got, _ = ContentVariables(&channels.Template{Body: body, ButtonURL: []string{"u"}})
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil || m["1"] != "a" || m["11"] != "k" || m["12"] != "u" {
		t.Errorf("ContentVariables = %s (%v)", got, err)
	}
	if _, err := ContentVariables(&channels.Template{Buttons: []channels.TemplateButton{{Index: 0, Kind: channels.ButtonQuickReply, Payload: "p"}}}); err == nil {
		t.Error("indexed buttons: no error")
	}
}

func TestNewWhatsAppClientErrors(t *testing.T) {
	base := WhatsAppConfig{AccountSID: testSID, AuthToken: testToken, From: "whatsapp:+15017122661",
		Content: map[string]string{"otp:en_US": testContentSID}}
	tests := []struct {
		name   string
		change func(*WhatsAppConfig)
		want   string
	}{
		{"no from", func(c *WhatsAppConfig) { c.From = "" }, "WHATSAPP_FROM"},
		{"national from", func(c *WhatsAppConfig) { c.From = "5017122661" }, "WHATSAPP_FROM"},
		{"bad content sid", func(c *WhatsAppConfig) { c.Content = map[string]string{"otp:en_US": "MG123"} }, "WHATSAPP_TWILIO_CONTENT"},
		{"no token", func(c *WhatsAppConfig) { c.AuthToken = "" }, "TWILIO_AUTH_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			_, err := NewWhatsAppClient(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
	if _, err := NewWhatsAppClient(base); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestParseStatusCallbackWhatsApp(t *testing.T) {
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"read"}, "ChannelPrefix": {"whatsapp"},
		"To": {"whatsapp:+15558675310"}, "From": {"whatsapp:+15017122661"}}
	u, corr, ok, err := ParseStatusCallback(url.Values{QueryWorkflowID: {"wf"}, QueryAttempt: {"1"}}, form)
	if err != nil || !ok || corr.WorkflowID != "wf" || u.Status != channels.StatusRead || u.Provider != "twilio" {
		t.Fatalf("read: %+v %+v %v %v", u, corr, ok, err)
	}
	form.Set("MessageStatus", "failed")
	form.Set("ErrorCode", "63016")
	u, _, _, err = ParseStatusCallback(nil, form)
	if err != nil || u.Status != channels.StatusFailed || u.ErrorCode != "63016" || !strings.Contains(u.ErrorReason, "outside the allowed window") {
		t.Errorf("failed: %+v %v", u, err)
	}
}

// TestWhatsAppAgainstSandbox sends through the sandbox's Twilio lookalike
// and reads its status callbacks with ParseStatusCallback.
func TestWhatsAppAgainstSandbox(t *testing.T) {
	updates := make(chan channels.StatusUpdate, 8)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		u, corr, ok, err := ParseStatusCallback(r.URL.Query(), r.PostForm)
		if err != nil || !ok || corr.WorkflowID != "wf-1" {
			t.Errorf("callback %v: %+v %v %v", r.PostForm, corr, ok, err)
		}
		updates <- u
	}))
	defer hooks.Close()
	sb, err := sandbox.New(sandbox.Config{WhatsAppWebhookURL: hooks.URL + "/wa", AppSecret: "s", AccessToken: "a",
		PhoneNumberID: "1", TwilioAccountSID: testSID, TwilioAuthToken: testToken, StatusDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	c := newTestWhatsApp(t, sb.Handler())
	c.twilio.callback, _ = url.Parse(hooks.URL + "/webhooks/twilio/status")

	msg := channels.Message{To: sandbox.DefaultRecipient, Template: &channels.Template{Name: "otp", Language: "en_US", Body: []string{"493817"}},
		Correlation: channels.Correlation{WorkflowID: "wf-1", Attempt: 1}}
	res, err := c.Send(context.Background(), msg)
	if err != nil || res.Provider != "twilio" || res.MessageID == "" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	for _, want := range []channels.Status{channels.StatusSent, channels.StatusDelivered, channels.StatusRead} {
		if u := <-updates; u.Status != want || u.MessageID != res.MessageID {
			t.Errorf("update %+v, want %s of %s", u, want, res.MessageID)
		}
	}
	msg.To = sandbox.WhatsAppWindowClosed
	if _, err := c.Send(context.Background(), msg); !channels.IsPermanent(err) || !strings.Contains(err.Error(), "63016") {
		t.Errorf("window closed: %v", err)
	}
	msg.To = sandbox.WhatsAppRateLimited
	if _, err := c.Send(context.Background(), msg); err == nil || channels.IsPermanent(err) {
		t.Errorf("rate limited: %v, want retryable", err)
	}
}
