package webhooks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

const ourPhoneNumberID = "106540352242922" // inboundBody's

// TestWhatsAppOtherPhoneNumber posts a notification whose changes concern
// our phone number and another on the same Meta app: the other's message
// and status are answered 200 and ignored, and counted; ours is received.
func TestWhatsAppOtherPhoneNumber(t *testing.T) {
	ctx := context.Background()
	h, fj, st := newInboundHandler(t, time.Unix(1780308060, 0))
	ignored := 0
	h.cfg.WhatsAppPhoneNumberID, h.cfg.OtherNumberIgnored = ourPhoneNumberID, func() { ignored++ }
	other := `{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550009999","phone_number_id":"999"},` +
		`"contacts":[{"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.OTHER","timestamp":"1780308000","type":"text","text":{"body":"STOP"}}],` +
		`"statuses":[{"id":"wamid.THEIRS","status":"delivered","timestamp":"1780308000","recipient_id":"16505551234"}]}}`
	ours := waText("wamid.OURS", 1780308000, "hello")
	body := strings.Replace(ours, `"changes":[`, `"changes":[`+other+`,`, 1)
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
		t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
	}
	if ignored != 1 {
		t.Errorf("OtherNumberIgnored called %d times, want once", ignored)
	}
	for _, s := range fj.signals {
		if s.event.Vars["message_id"] != "wamid.OURS" {
			t.Errorf("signalled %+v: a message of another number", s.event)
		}
	}
	if len(fj.signals) != 2 {
		t.Errorf("signals = %d, want our message to both journeys", len(fj.signals))
	}
	if sups, err := st.Suppressions(ctx, customerKey()); err != nil || len(sups) != 0 {
		t.Errorf("suppressions = %+v, %v; another number's STOP must change nothing", sups, err)
	}
	// Without a configured id every number's changes are taken.
	h.cfg.WhatsAppPhoneNumberID = ""
	body = waText("wamid.ANY", 1780308000, "STOP")
	body = strings.Replace(body, ourPhoneNumberID, "999", 1)
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 || ignored != 1 {
		t.Fatalf("POST without an id configured = %d, ignored %d; want 200 and taken", w.Code, ignored)
	}
	if sups, err := st.Suppressions(ctx, customerKey()); err != nil || len(sups) != 1 {
		t.Errorf("suppressions = %+v, %v; want the STOP taken", sups, err)
	}
}

// TestWhatsAppSenderMapping receives messages from WhatsApp IDs that
// differ from the numbers journeys sent to (Brazil's ninth digit,
// Mexico's 1) and checks that they reach the contact sent to.
func TestWhatsAppSenderMapping(t *testing.T) {
	secret := []byte(inboundSecret)
	tests := []struct {
		name    string
		sentTo  string // the journey's recipient, whose contact has a sent message
		waID    string
		context string // the wamid answered, "" for none
	}{
		{"brazil, answering our message", "+5511987654321", "551187654321", "wamid.SENT"},
		{"brazil, a new text", "+5511987654321", "551187654321", ""},
		{"mexico, a new text", "+525512345678", "5215512345678", ""},
		{"mexico, answering, 1 dropped", "+5215512345678", "525512345678", "wamid.SENT"},
		{"the same number", "+16505551234", "16505551234", ""},
		{"answering, from a number no rule relates", "+16505550100", "16505551234", "wamid.SENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h, fj, st := newInboundHandler(t, time.Unix(1780308060, 0))
			sentKey := journeys.ContactKey(secret, tt.sentTo)
			fj.running = map[string]map[string]string{sentKey: {"cart-9": "abandoned_cart"}}
			accepted := store.MessageEvent{Provider: "whatsapp", MessageID: "wamid.SENT", Status: store.EventAccepted,
				Journey: "abandoned_cart", WorkflowID: "cart-9", Channel: channels.WhatsApp, ContactKey: sentKey, At: time.Unix(1780307000, 0)}
			if _, err := st.RecordEvent(ctx, accepted); err != nil {
				t.Fatal(err)
			}
			msg := `{"from":"` + tt.waID + `","id":"wamid.IN","timestamp":"1780308000","type":"text","text":{"body":"STOP"}}`
			if tt.context != "" {
				msg = `{"context":{"from":"15550783881","id":"` + tt.context + `"},` + msg[1:]
			}
			body := strings.Replace(inboundBody(msg), `"wa_id":"16505551234"`, `"wa_id":"`+tt.waID+`"`, 1)
			if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
				t.Fatalf("POST = %d %s", w.Code, w.Body)
			}
			if len(fj.signals) != 1 || fj.signals[0].workflowID != "cart-9" || fj.signals[0].event.Vars["from"] != sentKey {
				t.Errorf("signals = %+v, want the reply to cart-9 from the contact sent to", fj.signals)
			}
			sups, err := st.Suppressions(ctx, sentKey)
			if err != nil || len(sups) != 1 {
				t.Errorf("suppressions of the contact sent to = %+v, %v; want the opt-out", sups, err)
			}
			if own := journeys.ContactKey(secret, "+"+tt.waID); own != sentKey {
				if _, err := st.Contact(ctx, own); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a contact was made for the WhatsApp ID: %v", err)
				}
			}
		})
	}
}

// TestWhatsAppSenderNotANumber drops a message whose sender is not a
// number by the send rule, and answers 200 so that Meta stops.
func TestWhatsAppSenderNotANumber(t *testing.T) {
	h, fj, _ := newInboundHandler(t, time.Unix(1780308060, 0))
	for _, from := range []string{"1234", "0123456789", "abc"} {
		body := inboundBody(`{"from":"` + from + `","id":"wamid.X","timestamp":"1780308000","type":"text","text":{"body":"STOP"}}`)
		if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
			t.Errorf("from %q: POST = %d %s, want 200", from, w.Code, w.Body)
		}
	}
	if len(fj.signals) != 0 {
		t.Errorf("signals = %+v, want none", fj.signals)
	}
}
