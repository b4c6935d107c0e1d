package sandbox

import (
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
