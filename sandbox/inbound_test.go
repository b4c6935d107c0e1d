package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestInboundRefusesCrossSitePosts plays the customer by hand with the
// bodies a person and a hostile web page can send: only JSON, or a form
// with the sandbox header, reaches the webhook.
func TestInboundRefusesCrossSitePosts(t *testing.T) {
	form := url.Values{"from": {"+15551234567"}, "text": {"STOP"}}.Encode()
	tests := []struct {
		name, contentType, header, body string
		want                            int
	}{
		{"json", "application/json", "", `{"from":"+15551234567","text":"STOP"}`, 200},
		{"json with charset", "application/json; charset=utf-8", "", `{"from":"+15551234567","text":"hi"}`, 200},
		{"form with the header", "application/x-www-form-urlencoded", "1", form, 200},
		{"cross-site form", "application/x-www-form-urlencoded", "", form, 403},
		{"form with another header value", "application/x-www-form-urlencoded", "yes", form, 403},
		{"cross-site multipart", "multipart/form-data; boundary=x", "", "--x--", 403},
		{"cross-site text/plain json", "text/plain", "", `{"from":"+15551234567","text":"STOP"}`, 415},
		{"no content type", "", "", form, 415},
		{"json without text", "application/json", "", `{"from":"+15551234567"}`, 400},
		{"json with text and choice", "application/json", "", `{"from":"+15551234567","text":"hi","choose":"a"}`, 400},
		{"json malformed", "application/json", "", `{"from":`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			_, base := newSandbox(t, rc, nil)
			req, err := http.NewRequest("POST", base+"/inbound/whatsapp", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.header != "" {
				req.Header.Set(InboundHeader, tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("POST = %d, want %d", resp.StatusCode, tt.want)
			}
			_, reqs := rc.snapshot()
			if delivered := len(reqs) == 1; delivered != (tt.want == 200) {
				t.Errorf("webhook requests = %d, want one only when accepted", len(reqs))
			}
		})
	}
}

// TestCustomerChooses plays a customer who picks a list row and taps a
// reply button of the interactive messages the sandbox accepted: each
// reply is the signed webhook Meta posts, answering its message, and a
// choice no message offered is an error.
func TestCustomerChooses(t *testing.T) {
	rc := newReceiver(t)
	sb, base := newSandbox(t, rc, nil)
	const to = "+15551234567"
	send := func(interactive map[string]any) string {
		status, _, out := postWhatsApp(t, base, testToken, testPhoneID, map[string]any{"messaging_product": "whatsapp", "to": to,
			"type": "interactive", "interactive": interactive})
		if status != http.StatusOK {
			t.Fatalf("send interactive: %d %v", status, out)
		}
		return out["messages"].([]any)[0].(map[string]any)["id"].(string)
	}
	list := send(map[string]any{"type": "list", "body": map[string]any{"text": "Menu"}, "action": map[string]any{"button": "Options",
		"sections": []any{map[string]any{"rows": []any{map[string]any{"id": "hours", "title": "Opening hours"}}}}}})
	buttons := send(map[string]any{"type": "button", "body": map[string]any{"text": "Sure?"}, "action": map[string]any{
		"buttons": []any{map[string]any{"type": "reply", "reply": map[string]any{"id": "yes", "title": "Yes"}}}}})
	if got := sb.Sent(); len(got) != 2 || got[0].Body != "Menu" || len(got[0].Choices) != 1 || !got[0].Choices[0].List || got[1].Choices[0].List {
		t.Fatalf("sent %+v: want the list and the buttons with their choices", got)
	}

	ctx := context.Background()
	if err := sb.CustomerChooses(ctx, to, "hours"); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/inbound/whatsapp", strings.NewReader(`{"from":"`+to+`","choose":"yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hand-played choice: %d", resp.StatusCode)
	}
	if err := sb.CustomerChooses(ctx, to, "nope"); err == nil {
		t.Error("a choice no message offered was delivered")
	}

	_, reqs := rc.snapshot()
	if len(reqs) != 2 {
		t.Fatalf("webhook got %d requests, want 2", len(reqs))
	}
	for i, want := range []struct{ kind, id, answers string }{{"list_reply", "hours", list}, {"button_reply", "yes", buttons}} {
		if reqs[i].signature != WhatsAppSignature(testSecret, []byte(reqs[i].body)) {
			t.Errorf("reply %d is not signed with the app secret", i)
		}
		var n struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []inboundMessage `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(reqs[i].body), &n); err != nil {
			t.Fatal(err)
		}
		m := n.Entry[0].Changes[0].Value.Messages[0]
		chosen := m.Interactive.ButtonReply
		if want.kind == "list_reply" {
			chosen = m.Interactive.ListReply
		}
		if m.Type != "interactive" || m.Interactive.Type != want.kind || chosen == nil || chosen.ID != want.id || m.Context == nil || m.Context.ID != want.answers || m.Text != nil {
			t.Errorf("reply %d = %s, want a %s of %q answering %s", i, reqs[i].body, want.kind, want.id, want.answers)
		}
	}
}
