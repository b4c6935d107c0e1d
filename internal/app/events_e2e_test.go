package app_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/eventstream"
	"github.com/switchbackhq/switchback/sandbox"
)

// TestEndToEndEventStream: with SWITCHBACK_EVENTS_URL set, an OTP journey
// that falls back from WhatsApp to SMS streams its events, signed, to
// the receiver: the WhatsApp attempt accepted, its failure, the fallback,
// the SMS attempt and its delivery; never the number or the code.
func TestEndToEndEventStream(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("end-to-end-event-stream-key-0001"))
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string // type:channel:status
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("event signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		for _, secret := range []string{"15550000001", "493817"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("event %s holds %q", body, secret)
			}
		}
		var ev eventstream.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("webhook-id") {
			t.Errorf("event %s: %v, or its id is not webhook-id %q", body, err, r.Header.Get("webhook-id"))
		}
		mu.Lock()
		got = append(got, string(ev.Type)+":"+ev.Data.Channel+":"+ev.Data.Status)
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)

	s := apptest.StartWith(t, apptest.Options{Configure: func(c *config.Config) {
		c.EventsURL, c.WebhookSecret = rcv.URL, secret
	}})
	s.RunOTP(t, sandbox.WhatsAppUndeliverable)

	want := []string{
		"message.accepted:whatsapp:accepted", "message.status:whatsapp:failed", "message.fallback:whatsapp:fallback",
		"message.accepted:sms:accepted", "message.status:sms:delivered",
	}
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(received(), w) })
		if len(missing) == 0 {
			t.Logf("the receiver got %q", received())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %q; missing %q", received(), missing)
		}
	}
}
