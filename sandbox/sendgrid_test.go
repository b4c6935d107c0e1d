package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
)

const testSendGridKey = "SG.sandbox-test-key"

// sgReceiver stands in for Switchback's SendGrid webhook: it verifies every
// post with the sandbox's public key and records the events.
type sgReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	pubKey string

	mu     sync.Mutex
	events []email.Event
}

func (rc *sgReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("sendgrid post: read body: %v", err)
		return
	}
	rc.mu.Lock()
	pub := rc.pubKey
	rc.mu.Unlock()
	key, err := email.ParsePublicKey(pub)
	if err != nil {
		rc.t.Errorf("sandbox public key: %v", err)
		return
	}
	v := email.Verifier{Key: key}
	if err := v.Verify(body, r.Header.Get(email.SignatureHeader), r.Header.Get(email.TimestampHeader)); err != nil {
		rc.t.Errorf("sendgrid post: %v", err)
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	evs, err := email.ParseEvents(body)
	if err != nil {
		rc.t.Errorf("sendgrid post %s: %v", body, err)
		return
	}
	rc.mu.Lock()
	rc.events = append(rc.events, evs...)
	rc.mu.Unlock()
}

// kinds returns the event kinds for message id, in arrival order.
func (rc *sgReceiver) kinds(id string) []email.EventKind {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []email.EventKind
	for _, ev := range rc.events {
		if ev.MessageID == id {
			out = append(out, ev.Kind)
		}
	}
	return out
}

// newSendGridSandbox serves a Sandbox with the SendGrid lookalike on, and
// returns it with an email client pointed at it.
func newSendGridSandbox(t *testing.T) (*Sandbox, *email.Client, *sgReceiver, string) {
	t.Helper()
	rc := &sgReceiver{t: t}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)
	sb, url := newSandbox(t, newReceiver(t), func(c *Config) {
		c.SendGridAPIKey = testSendGridKey
		c.SendGridWebhookURL = rc.srv.URL + "/webhooks/sendgrid"
	})
	rc.pubKey = sb.SendGridPublicKey()
	c, err := email.NewClient(email.Config{APIURL: url, APIKey: testSendGridKey, From: "Acme <noreply@acme.test>"})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c, rc, url
}

func TestSendGridOutcomes(t *testing.T) {
	sb, c, rc, _ := newSendGridSandbox(t)
	tests := []struct {
		to   string
		want []email.EventKind
	}{
		{"ana@example.com", []email.EventKind{email.EventProcessed, email.EventDelivered, email.EventOpen}},
		{EmailBounce, []email.EventKind{email.EventProcessed, email.EventBounce}},
		{"Dropped+2@acme.test", []email.EventKind{email.EventDropped}},
		{EmailSilent, []email.EventKind{email.EventProcessed}},
		{EmailDeferred, []email.EventKind{email.EventProcessed, email.EventDeferred, email.EventDelivered}},
		{EmailSpamReport, []email.EventKind{email.EventProcessed, email.EventDelivered, email.EventSpamReport}},
		{EmailUnsubscribe, []email.EventKind{email.EventProcessed, email.EventDelivered, email.EventUnsubscribe}},
	}
	ids := map[string]string{}
	for i, tt := range tests {
		res, err := c.Send(context.Background(), channels.Message{
			To:          tt.to,
			Email:       &channels.EmailContent{TemplateID: "d-otp", Data: map[string]string{"code": "1"}},
			Journey:     "otp",
			Step:        "code",
			Correlation: channels.Correlation{WorkflowID: "otp-42", Attempt: i + 1},
		})
		if err != nil {
			t.Fatalf("send to %s: %v", tt.to, err)
		}
		ids[tt.to] = res.MessageID
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, tt := range tests {
		var got []email.EventKind
		for {
			got = rc.kinds(ids[tt.to])
			if len(got) >= len(tt.want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: events %v, want %v", tt.to, got, tt.want)
		}
	}
	rc.mu.Lock()
	for _, ev := range rc.events {
		if !ev.HasCorrelation || ev.Correlation.WorkflowID != "otp-42" || !strings.HasPrefix(ev.SGMessageID, ev.MessageID+".") ||
			ev.EventID == "" || ev.Timestamp == 0 || !slices.Equal(ev.Categories, []string{"otp", "otp/code"}) {
			t.Errorf("event lacks fields: %+v", ev)
		}
		if ev.Kind == email.EventBounce && (ev.Reason == "" || ev.Status != "5.1.1" || ev.BounceType != "bounce") {
			t.Errorf("bounce = %+v", ev)
		}
	}
	rc.mu.Unlock()
	sent := sb.Sent()
	if len(sent) != len(tests) || sent[0].Provider != ProviderSendGrid || sent[0].Template != "d-otp" ||
		sent[0].CustomArgs[email.ArgWorkflowID] != "otp-42" || sent[1].Outcome != "EmailBounce" {
		t.Errorf("Sent() = %+v", sent)
	}
}

func TestSendGridRefusals(t *testing.T) {
	_, c, _, url := newSendGridSandbox(t)
	send := func(c *email.Client, to string, content *channels.EmailContent) error {
		_, err := c.Send(context.Background(), channels.Message{To: to, Email: content})
		return err
	}
	tmpl := &channels.EmailContent{TemplateID: "d-otp"}

	// Rate limited once, with Retry-After, then accepted.
	err := send(c, EmailRateLimited, tmpl)
	var se *channels.SendError
	if !errors.As(err, &se) || se.Code != "http_429" || se.Permanent || se.RetryAfter <= 0 {
		t.Fatalf("first send to %s: %v, want a retryable 429 with a delay", EmailRateLimited, err)
	}
	if err := send(c, EmailRateLimited, tmpl); err != nil {
		t.Errorf("second send to %s: %v", EmailRateLimited, err)
	}

	// A wrong key is a configuration error.
	bad, err := email.NewClient(email.Config{APIURL: url, APIKey: "SG.wrong", From: "noreply@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := send(bad, "ana@example.com", tmpl); !errors.As(err, &se) || !se.Config || se.Code != "http_401" {
		t.Errorf("wrong key: %v, want a configuration error", err)
	}
}

func TestCheckSendGridRequest(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"no from", `{"personalizations":[{"to":[{"email":"a@b.test"}]}],"template_id":"d-1"}`, "from.email"},
		{"no personalizations", `{"from":{"email":"n@acme.test"},"template_id":"d-1"}`, "personalizations"},
		{"no to", `{"from":{"email":"n@acme.test"},"personalizations":[{}],"template_id":"d-1"}`, "personalizations.0.to"},
		{"bad to", `{"from":{"email":"n@acme.test"},"personalizations":[{"to":[{"email":"nope"}]}],"template_id":"d-1"}`, "personalizations.0.to.0.email"},
		{"no subject", `{"from":{"email":"n@acme.test"},"personalizations":[{"to":[{"email":"a@b.test"}]}],"content":[{"type":"text/plain","value":"x"}]}`, "subject"},
		{"no content", `{"from":{"email":"n@acme.test"},"subject":"s","personalizations":[{"to":[{"email":"a@b.test"}]}]}`, "content"},
		{"html first", `{"from":{"email":"n@acme.test"},"subject":"s","personalizations":[{"to":[{"email":"a@b.test"}]}],"content":[{"type":"text/html","value":"x"},{"type":"text/plain","value":"x"}]}`, "content"},
		{"good", `{"from":{"email":"n@acme.test"},"subject":"s","personalizations":[{"to":[{"email":"a@b.test"}]}],"content":[{"type":"text/plain","value":"x"}]}`, ""},
	}
	sb, _ := newSandbox(t, newReceiver(t), func(c *Config) {
		c.SendGridAPIKey = testSendGridKey
		c.SendGridWebhookURL = "http://127.0.0.1:1/webhooks/sendgrid"
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v3/mail/send", strings.NewReader(tt.body))
			r.Header.Set("Authorization", "Bearer "+testSendGridKey)
			w := httptest.NewRecorder()
			sb.Handler().ServeHTTP(w, r)
			wantCode := http.StatusBadRequest
			if tt.field == "" {
				wantCode = http.StatusAccepted
			}
			if w.Code != wantCode || !strings.Contains(w.Body.String(), `"field":"`+tt.field+`"`) && tt.field != "" {
				t.Errorf("code %d body %s, want %d naming field %q", w.Code, w.Body, wantCode, tt.field)
			}
			if tt.field == "" && w.Header().Get("X-Message-Id") == "" {
				t.Error("202 without X-Message-Id")
			}
		})
	}
}

func TestSendGridOffByDefault(t *testing.T) {
	sb, _ := newSandbox(t, newReceiver(t), nil)
	w := httptest.NewRecorder()
	sb.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/v3/mail/send", strings.NewReader("{}")))
	if w.Code != http.StatusNotFound || sb.SendGridPublicKey() != "" {
		t.Errorf("code %d, key %q: want no SendGrid lookalike", w.Code, sb.SendGridPublicKey())
	}
}
