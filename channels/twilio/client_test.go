package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tclient "github.com/twilio/twilio-go/client"

	"github.com/switchbackhq/switchback/channels"
)

// twilio-go rejects credentials with anything but letters and digits.
const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "token123"
)

// fakeTwilio plays Twilio's Messages resource. It records the last request
// and answers with status and body.
type fakeTwilio struct {
	status int
	body   string

	calls  atomic.Int32
	method string
	path   string
	user   string
	pass   string
	form   url.Values
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.method, f.path = r.Method, r.URL.Path
	f.user, f.pass, _ = r.BasicAuth()
	r.ParseForm()
	f.form = r.PostForm
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

// createdBody is a 201 response of the Messages resource.
const createdBody = `{
  "account_sid": "AC0123456789abcdef0123456789abcdef",
  "api_version": "2010-04-01",
  "body": "Your code is 123456",
  "date_created": "Thu, 11 Sep 2026 05:01:45 +0000",
  "date_sent": null,
  "date_updated": "Thu, 11 Sep 2026 05:01:45 +0000",
  "direction": "outbound-api",
  "error_code": null,
  "error_message": null,
  "from": "+15017122661",
  "messaging_service_sid": null,
  "num_media": "0",
  "num_segments": "1",
  "price": null,
  "price_unit": "USD",
  "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
  "status": "queued",
  "subresource_uris": {"media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f/Media.json"},
  "to": "+15558675310",
  "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json"
}`

func newTestClient(t *testing.T, f http.Handler, cfg Config) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.APIURL = srv.URL
	cfg.AccountSID, cfg.AuthToken = testSID, testToken
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		cfg.From = "+15017122661"
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var otpMessage = channels.Message{
	Channel:     channels.SMS,
	To:          "+15558675310",
	Text:        "Your code is 123456",
	Correlation: channels.Correlation{WorkflowID: "otp-42", Attempt: 2},
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		msg      channels.Message
		wantForm url.Values
	}{
		{
			name: "from and callback",
			cfg:  Config{From: "+15017122661", StatusCallbackURL: "https://switchback.example.com/webhooks/twilio/status"},
			msg:  otpMessage,
			wantForm: url.Values{
				"To":             {"+15558675310"},
				"From":           {"+15017122661"},
				"Body":           {"Your code is 123456"},
				"StatusCallback": {"https://switchback.example.com/webhooks/twilio/status?sb_wf=otp-42&sb_attempt=2"},
			},
		},
		{
			name: "messaging service and callback with a query",
			cfg:  Config{MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", StatusCallbackURL: "https://switchback.example.com/webhooks/twilio/status?tenant=a%20b"},
			msg: channels.Message{
				To: "+15558675310", Text: "Your order shipped",
				Correlation: channels.Correlation{WorkflowID: "order/7 x", Attempt: 1},
			},
			wantForm: url.Values{
				"To":                  {"+15558675310"},
				"MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
				"Body":                {"Your order shipped"},
				"StatusCallback":      {"https://switchback.example.com/webhooks/twilio/status?tenant=a%20b&sb_wf=order%2F7+x&sb_attempt=1"},
			},
		},
		{
			name: "no callback",
			cfg:  Config{From: "+15017122661"},
			msg:  otpMessage,
			wantForm: url.Values{
				"To":   {"+15558675310"},
				"From": {"+15017122661"},
				"Body": {"Your code is 123456"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
			c := newTestClient(t, f, tt.cfg)
			res, err := c.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := channels.SendResult{Provider: "twilio", MessageID: "SM1f0e8ae6ade43cb3c0ce4525424e404f", Status: channels.StatusAccepted}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			if wantPath := "/2010-04-01/Accounts/" + testSID + "/Messages.json"; f.method != http.MethodPost || f.path != wantPath {
				t.Errorf("request = %s %s, want POST %s", f.method, f.path, wantPath)
			}
			if f.user != testSID || f.pass != testToken {
				t.Errorf("basic auth = %q, %q", f.user, f.pass)
			}
			if f.form.Encode() != tt.wantForm.Encode() {
				t.Errorf("form\n got: %v\nwant: %v", f.form, tt.wantForm)
			}
			if cb := f.form.Get("StatusCallback"); cb != "" {
				u, err := url.Parse(cb)
				if err != nil {
					t.Fatal(err)
				}
				if got, ok := correlation(u.Query()); !ok || got != tt.msg.Correlation {
					t.Errorf("callback correlation = %+v, %v; want %+v", got, ok, tt.msg.Correlation)
				}
			}
		})
	}
}

func TestSendAPIURLWithPath(t *testing.T) {
	f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL + "/twilio/", AccountSID: testSID, AuthToken: testToken, From: "+15017122661"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), otpMessage); err != nil {
		t.Fatal(err)
	}
	if want := "/twilio/2010-04-01/Accounts/" + testSID + "/Messages.json"; f.path != want {
		t.Errorf("path = %q, want %q", f.path, want)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		wantCode      string
		wantReason    string
		wantPermanent bool
		wantConfig    bool
		wantTwilio    bool // a *client.TwilioRestError in the chain
	}{
		{
			name:   "21211 invalid number is permanent",
			status: 400, body: `{"code": 21211, "message": "The 'To' number 5551234567 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			wantCode: "21211", wantReason: "The 'To' number 5551234567 is not a valid phone number.", wantPermanent: true, wantTwilio: true,
		},
		{
			name:   "21610 unsubscribed is permanent",
			status: 400, body: `{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}`,
			wantCode: "21610", wantReason: "Attempt to send to unsubscribed recipient", wantPermanent: true, wantTwilio: true,
		},
		{
			name:   "20429 too many requests is retryable",
			status: 429, body: `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`,
			wantCode: "20429", wantReason: "Too Many Requests", wantTwilio: true,
		},
		{
			name:   "429 without a code is retryable",
			status: 429, body: `{"message": "Too Many Requests", "status": 429}`,
			wantCode: "http_429", wantReason: "Too Many Requests", wantTwilio: true,
		},
		{
			name:   "500 JSON is retryable",
			status: 500, body: `{"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}`,
			wantCode: "20500", wantReason: "Internal Server Error", wantTwilio: true,
		},
		{
			name:   "503 non-JSON is retryable",
			status: 503, body: `<html>Service Unavailable</html>`,
			wantCode: "http_503", wantReason: "HTTP 503 Service Unavailable",
		},
		{
			name:   "404 non-JSON is permanent",
			status: 404, body: `not found`,
			wantCode: "http_404", wantReason: "HTTP 404 Not Found", wantPermanent: true,
		},
		{
			name:   "20003 authentication is config",
			status: 401, body: `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`,
			wantCode: "20003", wantReason: "Authenticate", wantPermanent: true, wantConfig: true, wantTwilio: true,
		},
		{
			name:   "201 without a sid",
			status: 201, body: `{"status": "queued"}`,
			wantCode: "no_message_id", wantReason: "HTTP 201 response without a message sid", wantPermanent: true, wantConfig: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, &fakeTwilio{status: tt.status, body: tt.body}, Config{})
			_, err := c.Send(context.Background(), otpMessage)
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want a *channels.SendError", err, err)
			}
			if se.Channel != channels.SMS || se.Provider != "twilio" {
				t.Errorf("channel, provider = %q, %q", se.Channel, se.Provider)
			}
			if se.Code != tt.wantCode || se.Reason != tt.wantReason {
				t.Errorf("code, reason = %q, %q; want %q, %q", se.Code, se.Reason, tt.wantCode, tt.wantReason)
			}
			if se.Permanent != tt.wantPermanent || se.Config != tt.wantConfig {
				t.Errorf("permanent, config = %v, %v; want %v, %v", se.Permanent, se.Config, tt.wantPermanent, tt.wantConfig)
			}
			var tre *tclient.TwilioRestError
			if got := errors.As(err, &tre); got != tt.wantTwilio {
				t.Errorf("TwilioRestError in chain = %v, want %v (%v)", got, tt.wantTwilio, err)
			}
		})
	}
}

func TestSendNeedsText(t *testing.T) {
	f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
	c := newTestClient(t, f, Config{})
	msg := channels.Message{To: "+15558675310", Template: &channels.Template{Name: "otp_code", Language: "en_US"}}
	_, err := c.Send(context.Background(), msg)
	var se *channels.SendError
	if !errors.As(err, &se) || !se.Permanent || se.Reason != "sms needs text" {
		t.Fatalf("error = %v, want a permanent SendError \"sms needs text\"", err)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}

func TestSendNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := NewClient(Config{APIURL: base, AccountSID: testSID, AuthToken: testToken, From: "+15017122661"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), otpMessage)
	var se *channels.SendError
	if !errors.As(err, &se) || se.Permanent || se.Code != "network" {
		t.Fatalf("error = %v, want a retryable network SendError", err)
	}
}

func TestSendContext(t *testing.T) {
	t.Run("canceled before", func(t *testing.T) {
		f := &fakeTwilio{status: http.StatusCreated, body: createdBody}
		c := newTestClient(t, f, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Send(ctx, otpMessage); !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if n := f.calls.Load(); n != 0 {
			t.Errorf("server got %d requests", n)
		}
	})
	t.Run("canceled in flight", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release) // runs before the server's Close in t.Cleanup
		stall := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c := newTestClient(t, stall, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Send(ctx, otpMessage)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
		if channels.IsPermanent(err) {
			t.Errorf("an aborted send is permanent: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send returned after %v", d)
		}
	})
}

func TestNewClientErrors(t *testing.T) {
	ok := Config{AccountSID: testSID, AuthToken: testToken, From: "+15017122661"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no account", func(c *Config) { c.AccountSID = "" }, "TWILIO_ACCOUNT_SID"},
		{"account with dashes", func(c *Config) { c.AccountSID = "AC-123" }, "TWILIO_ACCOUNT_SID"},
		{"no token", func(c *Config) { c.AuthToken = "" }, "TWILIO_AUTH_TOKEN"},
		{"no sender", func(c *Config) { c.From = "" }, "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"},
		{"relative api url", func(c *Config) { c.APIURL = "localhost:8080" }, "TWILIO_API_URL"},
		{"ftp api url", func(c *Config) { c.APIURL = "ftp://example.com" }, "TWILIO_API_URL"},
		{"relative callback", func(c *Config) { c.StatusCallbackURL = "/webhooks/twilio/status" }, "status callback URL"},
		{"callback with sb_wf", func(c *Config) { c.StatusCallbackURL = "https://x.example.com/s?sb_wf=1" }, "sb_wf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			_, err := NewClient(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewClient = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if _, err := NewClient(ok); err != nil {
		t.Errorf("NewClient(valid) = %v", err)
	}
}
