package whatsapp

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

// graphAPI plays the Graph API: it records the last request and answers with
// status and body.
type graphAPI struct {
	status int
	body   string

	calls   atomic.Int32
	method  string
	path    string
	header  http.Header
	reqBody []byte
}

func (g *graphAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	g.method, g.path, g.header = r.Method, r.URL.Path, r.Header.Clone()
	g.reqBody, _ = io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(g.status)
	io.WriteString(w, g.body)
}

const okBody = `{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIyQjM2RTlERTY4QjFGNzUwNDgA","message_status":"accepted"}]}`

func newTestClient(t *testing.T, g *graphAPI) *Client {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{APIURL: srv.URL + "/v23.0/", PhoneNumberID: "106540352242922", AccessToken: "EAAJBtoken"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendRequest(t *testing.T) {
	corr := channels.Correlation{WorkflowID: "otp-42", Attempt: 1}
	tests := []struct {
		name     string
		msg      channels.Message
		wantBody string
	}{
		{
			name: "template with body and url button",
			msg: channels.Message{
				Channel: channels.WhatsApp,
				To:      "+16505551234",
				Template: &channels.Template{
					Name:      "verification_code",
					Language:  "en_US",
					Body:      []string{"J$FpnYnP"},
					ButtonURL: []string{"J$FpnYnP"},
				},
				Correlation: corr,
			},
			wantBody: `{
			  "messaging_product": "whatsapp",
			  "recipient_type": "individual",
			  "to": "+16505551234",
			  "type": "template",
			  "template": {
			    "name": "verification_code",
			    "language": {"code": "en_US"},
			    "components": [
			      {"type": "body", "parameters": [{"type": "text", "text": "J$FpnYnP"}]},
			      {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "J$FpnYnP"}]}
			    ]
			  },
			  "biz_opaque_callback_data": "sb1:1:otp-42"
			}`,
		},
		{
			name: "template with two url buttons and no parameters in body",
			msg: channels.Message{
				To:          "16505551234",
				Template:    &channels.Template{Name: "order_links", Language: "pt_BR", ButtonURL: []string{"a/1", "b/2"}},
				Correlation: channels.Correlation{WorkflowID: "order-7", Attempt: 3},
			},
			wantBody: `{
			  "messaging_product": "whatsapp",
			  "recipient_type": "individual",
			  "to": "+16505551234",
			  "type": "template",
			  "template": {
			    "name": "order_links",
			    "language": {"code": "pt_BR"},
			    "components": [
			      {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "a/1"}]},
			      {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "b/2"}]}
			    ]
			  },
			  "biz_opaque_callback_data": "sb1:3:order-7"
			}`,
		},
		{
			name: "template without parameters",
			msg: channels.Message{
				To:          "+16505551234",
				Template:    &channels.Template{Name: "hello_world", Language: "en_US"},
				Correlation: corr,
			},
			wantBody: `{
			  "messaging_product": "whatsapp",
			  "recipient_type": "individual",
			  "to": "+16505551234",
			  "type": "template",
			  "template": {"name": "hello_world", "language": {"code": "en_US"}},
			  "biz_opaque_callback_data": "sb1:1:otp-42"
			}`,
		},
		{
			name: "text",
			msg: channels.Message{
				Channel:     channels.WhatsApp,
				To:          "+16505551234",
				Text:        "Your order has shipped.",
				Correlation: corr,
			},
			wantBody: `{
			  "messaging_product": "whatsapp",
			  "recipient_type": "individual",
			  "to": "+16505551234",
			  "type": "text",
			  "text": {"body": "Your order has shipped."},
			  "biz_opaque_callback_data": "sb1:1:otp-42"
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graphAPI{status: http.StatusOK, body: okBody}
			c := newTestClient(t, g)
			res, err := c.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := channels.SendResult{Provider: "whatsapp", MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIyQjM2RTlERTY4QjFGNzUwNDgA", Status: channels.StatusAccepted}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			if g.method != http.MethodPost || g.path != "/v23.0/106540352242922/messages" {
				t.Errorf("request = %s %s, want POST /v23.0/106540352242922/messages", g.method, g.path)
			}
			if got := g.header.Get("Authorization"); got != "Bearer EAAJBtoken" {
				t.Errorf("Authorization = %q", got)
			}
			if got := g.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			assertJSONEqual(t, g.reqBody, tt.wantBody)
		})
	}
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body\n got: %s\nwant: %s", got, want)
	}
}

func graphError(code int, typ, message, details string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message":    message,
		"type":       typ,
		"code":       code,
		"error_data": map[string]any{"messaging_product": "whatsapp", "details": details},
		"fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
	}})
	return string(b)
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
		wantAPICode   int // 0: no *APIError expected
	}{
		{
			name:   "131047 re-engagement is permanent",
			status: 400, body: graphError(131047, "OAuthException", "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
			wantCode: "131047", wantReason: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
			wantPermanent: true, wantAPICode: 131047,
		},
		{
			name:   "131026 undeliverable is permanent",
			status: 400, body: graphError(131026, "OAuthException", "(#131026) Message Undeliverable.", "Unable to deliver message."),
			wantCode: "131026", wantReason: "Unable to deliver message.", wantPermanent: true, wantAPICode: 131026,
		},
		{
			name:   "132001 template does not exist is permanent",
			status: 404, body: graphError(132001, "OAuthException", "(#132001) Template name does not exist in the translation", "template name (otp_code) does not exist in en_US"),
			wantCode: "132001", wantReason: "template name (otp_code) does not exist in en_US", wantPermanent: true, wantAPICode: 132001,
		},
		{
			name:   "130429 throughput is retryable",
			status: 400, body: `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"error_subcode":2494055,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`,
			wantCode: "130429", wantReason: "Cloud API message throughput has been reached.", wantAPICode: 130429,
		},
		{
			name:   "190 expired token is config",
			status: 401, body: `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbC"}}`,
			wantCode: "190", wantReason: "Error validating access token: Session has expired", wantPermanent: true, wantConfig: true, wantAPICode: 190,
		},
		{
			name:   "200-299 permission range is config",
			status: 403, body: graphError(294, "OAuthException", "(#294) Managing advertisements requires an access token", ""),
			wantCode: "294", wantReason: "(#294) Managing advertisements requires an access token", wantPermanent: true, wantConfig: true, wantAPICode: 294,
		},
		{
			name:   "unknown code with 4xx is permanent",
			status: 400, body: graphError(987654, "OAuthException", "(#987654) Something new", "new details"),
			wantCode: "987654", wantReason: "new details", wantPermanent: true, wantAPICode: 987654,
		},
		{
			name:   "unknown code with 5xx is retryable",
			status: 500, body: graphError(987654, "OAuthException", "(#987654) Something new", "new details"),
			wantCode: "987654", wantReason: "new details", wantAPICode: 987654,
		},
		{
			name:   "non-JSON 502 is retryable",
			status: 502, body: "<html>Bad Gateway</html>",
			wantCode: "http_502", wantReason: "HTTP 502 Bad Gateway: <html>Bad Gateway</html>",
		},
		{
			name:   "non-JSON 429 is retryable",
			status: 429, body: "",
			wantCode: "http_429", wantReason: "HTTP 429 Too Many Requests",
		},
		{
			name:   "JSON without error object 400 is permanent",
			status: 400, body: `{"oops":true}`,
			wantCode: "http_400", wantReason: `HTTP 400 Bad Request: {"oops":true}`, wantPermanent: true,
		},
		{
			name:   "200 without message id",
			status: 200, body: `{"messaging_product":"whatsapp","messages":[]}`,
			wantCode: "no_message_id", wantReason: "HTTP 200 response without a message id", wantPermanent: true, wantConfig: true,
		},
	}
	msg := channels.Message{
		Channel:     channels.WhatsApp,
		To:          "+16505551234",
		Template:    &channels.Template{Name: "otp_code", Language: "en_US", Body: []string{"123456"}},
		Correlation: channels.Correlation{WorkflowID: "otp-1", Attempt: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, &graphAPI{status: tt.status, body: tt.body})
			_, err := c.Send(context.Background(), msg)
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want a *channels.SendError", err, err)
			}
			if se.Channel != channels.WhatsApp || se.Provider != "whatsapp" {
				t.Errorf("channel, provider = %q, %q", se.Channel, se.Provider)
			}
			if se.Code != tt.wantCode || se.Reason != tt.wantReason {
				t.Errorf("code, reason = %q, %q; want %q, %q", se.Code, se.Reason, tt.wantCode, tt.wantReason)
			}
			if se.Permanent != tt.wantPermanent || se.Config != tt.wantConfig {
				t.Errorf("permanent, config = %v, %v; want %v, %v", se.Permanent, se.Config, tt.wantPermanent, tt.wantConfig)
			}
			if channels.IsPermanent(err) != tt.wantPermanent {
				t.Errorf("channels.IsPermanent = %v", !tt.wantPermanent)
			}
			if !strings.Contains(err.Error(), `template "otp_code"`) {
				t.Errorf("error %q does not name the template", err)
			}
			var apiErr *APIError
			switch {
			case tt.wantAPICode == 0 && errors.As(err, &apiErr):
				t.Errorf("unexpected *APIError %v", apiErr)
			case tt.wantAPICode != 0 && !errors.As(err, &apiErr):
				t.Errorf("no *APIError in %v", err)
			case tt.wantAPICode != 0 && (apiErr.Code != tt.wantAPICode || apiErr.HTTPStatus != tt.status):
				t.Errorf("APIError code, status = %d, %d; want %d, %d", apiErr.Code, apiErr.HTTPStatus, tt.wantAPICode, tt.status)
			}
		})
	}
}

func TestAPIErrorFields(t *testing.T) {
	body := `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"error_subcode":2494055,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
	c := newTestClient(t, &graphAPI{status: 400, body: body})
	_, err := c.Send(context.Background(), channels.Message{To: "+16505551234", Text: "hi", Correlation: channels.Correlation{WorkflowID: "w", Attempt: 1}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("no *APIError in %v", err)
	}
	want := APIError{
		HTTPStatus: 400, Code: 130429, Subcode: 2494055, Type: "OAuthException",
		Message: "(#130429) Rate limit hit", Details: "Cloud API message throughput has been reached.",
		FBTraceID: "Az8or2yhqkZfEZ-_4Qn_Bam",
	}
	if *apiErr != want {
		t.Errorf("APIError = %+v, want %+v", *apiErr, want)
	}
	if got := apiErr.Error(); !strings.Contains(got, "130429") || !strings.Contains(got, "throughput") {
		t.Errorf("Error() = %q", got)
	}
}

// Every code Classify knows, by class: the table Meta's error codes page
// and issue 4 give.
func TestClassify(t *testing.T) {
	tests := []struct {
		class Class
		codes []int
	}{
		{Retryable, []int{1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 131057, 133004}},
		{Configuration, []int{0, 3, 10, 190, 200, 250, 299, 131042, 131045}},
		{Permanent, []int{33, 100, 368, 130403, 130472, 130497, 131005, 131008, 131009, 131021, 131026, 131031,
			131037, 131047, 131049, 131050, 131051, 131052, 131053, 131063, 131064,
			132000, 132001, 132005, 132007, 132012, 132015, 132016, 133016}},
		{Unknown, []int{300, 555555, 132999}},
	}
	for _, tt := range tests {
		for _, code := range tt.codes {
			if got := Classify(code); got != tt.class {
				t.Errorf("Classify(%d) = %v, want %v", code, got, tt.class)
			}
		}
	}
}

func TestAPIErrorClass(t *testing.T) {
	tests := []struct {
		err  APIError
		want Class
	}{
		{APIError{HTTPStatus: 400, Code: 100}, Permanent},
		{APIError{HTTPStatus: 400, Code: 100, Subcode: 33}, Configuration},
		{APIError{HTTPStatus: 400, Code: 100, Type: "GraphMethodException"}, Configuration},
		{APIError{HTTPStatus: 400, Code: 131047, Type: "GraphMethodException"}, Permanent},
		{APIError{HTTPStatus: 503, Code: 987654}, Retryable},
		{APIError{HTTPStatus: 429, Code: 987654}, Retryable},
		{APIError{HTTPStatus: 400, Code: 987654}, Permanent},
	}
	for _, tt := range tests {
		if got := tt.err.Class(); got != tt.want {
			t.Errorf("%+v.Class() = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestSendNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := NewClient(Config{APIURL: url, PhoneNumberID: "1", AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.Message{To: "+16505551234", Text: "hi"})
	var se *channels.SendError
	if !errors.As(err, &se) || se.Permanent || se.Code != "network" {
		t.Fatalf("error = %#v, want a retryable network SendError", err)
	}
}

func TestSendContextCanceled(t *testing.T) {
	g := &graphAPI{status: 200, body: okBody}
	c := newTestClient(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Send(ctx, channels.Message{To: "+16505551234", Text: "hi"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if channels.IsPermanent(err) {
		t.Errorf("a canceled send is permanent: %v", err)
	}
	if n := g.calls.Load(); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}

func TestSendDeadlineInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	c, err := NewClient(Config{APIURL: srv.URL, PhoneNumberID: "1", AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Send(ctx, channels.Message{To: "+16505551234", Text: "hi"})
	if !errors.Is(err, context.DeadlineExceeded) || channels.IsPermanent(err) {
		t.Fatalf("error = %v, want a retryable error wrapping context.DeadlineExceeded", err)
	}
}

func TestSendInvalidMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  channels.Message
	}{
		{"neither template nor text", channels.Message{To: "+16505551234"}},
		{"both template and text", channels.Message{To: "+16505551234", Text: "x", Template: &channels.Template{Name: "t", Language: "en"}}},
		{"template without language", channels.Message{To: "+16505551234", Template: &channels.Template{Name: "t"}}},
		{"correlation too long", channels.Message{To: "+16505551234", Text: "x", Correlation: channels.Correlation{WorkflowID: strings.Repeat("w", 510), Attempt: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graphAPI{status: 200, body: okBody}
			c := newTestClient(t, g)
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

func TestNewClientErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{PhoneNumberID: "1", AccessToken: "t"}, "WHATSAPP_API_URL"},
		{Config{APIURL: "graph.facebook.com/v23.0", PhoneNumberID: "1", AccessToken: "t"}, "WHATSAPP_API_URL"},
		{Config{APIURL: "https://graph.facebook.com/v23.0", AccessToken: "t"}, "WHATSAPP_PHONE_NUMBER_ID"},
		{Config{APIURL: "https://graph.facebook.com/v23.0", PhoneNumberID: "1"}, "WHATSAPP_ACCESS_TOKEN"},
	}
	for _, tt := range tests {
		_, err := NewClient(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewClient(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}
