package email

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

const testKey = "SG.testkey"

// sendGridAPI is a fake Mail Send endpoint: it records the request and
// answers with a fixed status, headers and body.
type sendGridAPI struct {
	status int
	header map[string]string
	body   string

	calls atomic.Int32
	req   *http.Request
	raw   []byte
}

func (g *sendGridAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	g.req = r
	g.raw, _ = io.ReadAll(r.Body)
	for k, v := range g.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(g.status)
	io.WriteString(w, g.body)
}

func newTestClient(t *testing.T, g *sendGridAPI, cfg Config) *Client {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg.APIURL = srv.URL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.From == "" {
		cfg.From = "Acme <noreply@acme.test>"
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func okAPI() *sendGridAPI {
	return &sendGridAPI{status: http.StatusAccepted, header: map[string]string{"X-Message-Id": "XBg2anf2TqCy6WXKQFhieQ"}}
}

// mailBody is the part of a Mail Send body the tests check.
type mailBody struct {
	From             map[string]string `json:"from"`
	ReplyTo          map[string]string `json:"reply_to"`
	Subject          string            `json:"subject"`
	TemplateID       string            `json:"template_id"`
	Categories       []string          `json:"categories"`
	Personalizations []struct {
		To                  []map[string]string `json:"to"`
		CustomArgs          map[string]string   `json:"custom_args"`
		DynamicTemplateData map[string]any      `json:"dynamic_template_data"`
		Subject             string              `json:"subject"`
	} `json:"personalizations"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
}

func decodeBody(t *testing.T, g *sendGridAPI) mailBody {
	t.Helper()
	var b mailBody
	if err := json.Unmarshal(g.raw, &b); err != nil {
		t.Fatalf("request body %s: %v", g.raw, err)
	}
	return b
}

func TestSendTemplate(t *testing.T) {
	g := okAPI()
	c := newTestClient(t, g, Config{ReplyTo: "help@acme.test"})
	res, err := c.Send(context.Background(), channels.Message{
		Channel:     channels.Email,
		To:          "Ana <ana@example.com>",
		Email:       &channels.EmailContent{TemplateID: "d-c6dcf1f72bdd4beeb15a9aa6c72fcd2c", Data: map[string]string{"code": "493817"}},
		Journey:     "otp",
		Step:        "code",
		Correlation: channels.Correlation{WorkflowID: "otp-42", Attempt: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, channels.SendResult{Provider: "sendgrid", MessageID: "XBg2anf2TqCy6WXKQFhieQ", Status: channels.StatusAccepted}) {
		t.Errorf("result = %+v", res)
	}
	r := g.req
	if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
		t.Errorf("request = %s %s", r.Method, r.URL.Path)
	}
	for h, want := range map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json", "Accept": "application/json"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	b := decodeBody(t, g)
	if b.From["email"] != "noreply@acme.test" || b.From["name"] != "Acme" || b.ReplyTo["email"] != "help@acme.test" {
		t.Errorf("from, reply_to = %v, %v", b.From, b.ReplyTo)
	}
	if b.TemplateID != "d-c6dcf1f72bdd4beeb15a9aa6c72fcd2c" || b.Subject != "" || len(b.Content) != 0 {
		t.Errorf("template_id, subject, content = %q, %q, %v", b.TemplateID, b.Subject, b.Content)
	}
	if strings.Join(b.Categories, ",") != "otp,otp/code" {
		t.Errorf("categories = %v", b.Categories)
	}
	if len(b.Personalizations) != 1 {
		t.Fatalf("personalizations = %+v", b.Personalizations)
	}
	p := b.Personalizations[0]
	if len(p.To) != 1 || p.To[0]["email"] != "ana@example.com" || p.To[0]["name"] != "Ana" {
		t.Errorf("to = %v", p.To)
	}
	if p.CustomArgs[ArgWorkflowID] != "otp-42" || p.CustomArgs[ArgAttempt] != "3" {
		t.Errorf("custom_args = %v", p.CustomArgs)
	}
	if p.DynamicTemplateData["code"] != "493817" {
		t.Errorf("dynamic_template_data = %v", p.DynamicTemplateData)
	}
}

func TestSendSubjectAndBodies(t *testing.T) {
	g := okAPI()
	c := newTestClient(t, g, Config{From: "noreply@acme.test"})
	_, err := c.Send(context.Background(), channels.Message{
		To:    "ana@example.com",
		Email: &channels.EmailContent{Subject: "Your code", Text: "Code 1", HTML: "<p>Code 1</p>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := decodeBody(t, g)
	if b.Subject != "Your code" || b.TemplateID != "" || b.ReplyTo != nil || b.Categories != nil {
		t.Errorf("body = %s", g.raw)
	}
	if len(b.Content) != 2 || b.Content[0].Type != "text/plain" || b.Content[0].Value != "Code 1" ||
		b.Content[1].Type != "text/html" || b.Content[1].Value != "<p>Code 1</p>" {
		t.Errorf("content = %+v, want text/plain then text/html", b.Content)
	}
	if len(b.Personalizations) != 1 || b.Personalizations[0].CustomArgs != nil {
		t.Errorf("personalizations = %+v, want no custom args without a correlation", b.Personalizations)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantCode   string
		wantPerm   bool
		wantConfig bool
		wantRetry  time.Duration
		wantReason string
	}{
		{"bad request", 400, nil, `{"errors":[{"field":"from","message":"The from object must at least have an 'email' parameter","help":null}]}`, "http_400", true, false, 0, "from: The from object"},
		{"unauthorized", 401, nil, `{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked","help":null}]}`, "http_401", true, true, 0, "authorization grant"},
		{"forbidden", 403, nil, `{"errors":[{"field":null,"message":"access forbidden"}]}`, "http_403", true, true, 0, "access forbidden"},
		{"too large", 413, nil, `{"errors":[{"field":null,"message":"too big"}]}`, "http_413", true, false, 0, "too big"},
		{"rate limited", 429, map[string]string{"Retry-After": "3"}, `{"errors":[{"field":null,"message":"too many requests"}]}`, "http_429", false, false, 3 * time.Second, "too many"},
		{"server error", 500, nil, `{"errors":[{"field":null,"message":"internal"}]}`, "http_500", false, false, 0, "internal"},
		{"outage page", 503, nil, `<html>down</html>`, "http_503", false, false, 0, "HTTP 503 Service Unavailable: <html>down</html>"},
		{"no message id", 202, nil, ``, "no_message_id", true, true, 0, "X-Message-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, &sendGridAPI{status: tt.status, header: tt.header, body: tt.body}, Config{})
			_, err := c.Send(context.Background(), channels.Message{To: "ana@example.com", Email: &channels.EmailContent{TemplateID: "d-1"}})
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a SendError", err)
			}
			if se.Code != tt.wantCode || se.Permanent != tt.wantPerm || se.Config != tt.wantConfig || se.RetryAfter != tt.wantRetry {
				t.Errorf("code, permanent, config, retry after = %s, %v, %v, %v; want %s, %v, %v, %v",
					se.Code, se.Permanent, se.Config, se.RetryAfter, tt.wantCode, tt.wantPerm, tt.wantConfig, tt.wantRetry)
			}
			if se.Channel != channels.Email || se.Provider != Provider || !strings.Contains(se.Reason, tt.wantReason) {
				t.Errorf("error = %+v, want reason containing %q", se, tt.wantReason)
			}
			if !strings.Contains(err.Error(), `template "d-1"`) {
				t.Errorf("error %q does not name the template", err)
			}
			var apiErr *APIError
			if tt.status >= 400 && (!errors.As(err, &apiErr) || apiErr.HTTPStatus != tt.status) {
				t.Errorf("no *APIError with HTTP %d in %v", tt.status, err)
			}
		})
	}
}

func TestSendInvalidMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  channels.Message
	}{
		{"no email content", channels.Message{To: "ana@example.com", Text: "hi"}},
		{"recipient is a phone number", channels.Message{To: "+15551234567", Email: &channels.EmailContent{TemplateID: "d-1"}}},
		{"no recipient", channels.Message{Email: &channels.EmailContent{TemplateID: "d-1"}}},
		{"template and subject", channels.Message{To: "ana@example.com", Email: &channels.EmailContent{TemplateID: "d-1", Subject: "x"}}},
		{"neither template nor subject", channels.Message{To: "ana@example.com", Email: &channels.EmailContent{Text: "x"}}},
		{"subject without body", channels.Message{To: "ana@example.com", Email: &channels.EmailContent{Subject: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := okAPI()
			c := newTestClient(t, g, Config{})
			_, err := c.Send(context.Background(), tt.msg)
			var se *channels.SendError
			if !errors.As(err, &se) || !se.Permanent || se.Config || se.Code != "invalid_message" {
				t.Fatalf("error = %v, want a permanent invalid_message SendError", err)
			}
			if n := g.calls.Load(); n != 0 {
				t.Errorf("server got %d requests", n)
			}
		})
	}
}

func TestSendNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL, APIKey: testKey, From: "noreply@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.Message{To: "ana@example.com", Email: &channels.EmailContent{TemplateID: "d-1"}})
	var se *channels.SendError
	if !errors.As(err, &se) || se.Permanent || se.Unknown || se.Code != "network" {
		t.Fatalf("error = %#v, want a retryable network SendError", err)
	}
}

// A send whose request reached SendGrid but got no answer has an unknown
// outcome: it may have been accepted.
func TestSendUnknownOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // no answer at all
		}
	}))
	defer srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL, APIKey: testKey, From: "noreply@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.Message{To: "ana@example.com", Email: &channels.EmailContent{TemplateID: "d-1"}})
	if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("error = %v, want an unknown-outcome SendError", err)
	}
}

func TestNewClientErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{From: "a@b.test"}, "SENDGRID_API_KEY"},
		{Config{APIKey: "k"}, "SENDGRID_FROM"},
		{Config{APIKey: "k", From: "not an address"}, "SENDGRID_FROM"},
		{Config{APIKey: "k", From: "a@b.test", ReplyTo: "nope"}, "SENDGRID_REPLY_TO"},
		{Config{APIKey: "k", From: "a@b.test", APIURL: "api.sendgrid.com"}, "SENDGRID_API_URL"},
	}
	for _, tt := range tests {
		if _, err := NewClient(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewClient(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}

func TestCategoriesBounded(t *testing.T) {
	if got := categories("", "step"); got != nil {
		t.Errorf("categories without a journey = %v", got)
	}
	if got := categories("otp", ""); len(got) != 1 || got[0] != "otp" {
		t.Errorf("categories(otp) = %v", got)
	}
}
