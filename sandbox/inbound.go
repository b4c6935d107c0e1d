package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Inbound message parts of the webhook payload (see webhookValue).
type (
	inboundContact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	inboundMessage struct {
		From      string `json:"from"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Type      string `json:"type"`
		Text      struct {
			Body string `json:"body"`
		} `json:"text"`
	}
)

// CustomerWrites plays a customer who sends the business a WhatsApp text
// from the number from: it posts the signed inbound message webhook, as
// Meta does, and returns once Switchback has answered 2xx (or the tries
// ran out). It opens the 24-hour customer service window, and carries
// keywords such as STOP.
func (s *Sandbox) CustomerWrites(ctx context.Context, from, text string) error {
	wa := digits(from)
	if wa == "" {
		return fmt.Errorf("customer writes: %q is not a phone number", from)
	}
	msg := inboundMessage{From: wa, ID: newWamid(wa), Timestamp: strconv.FormatInt(time.Now().Unix(), 10), Type: "text"}
	msg.Text.Body = text
	c := inboundContact{WaID: wa}
	c.Profile.Name = "Sandbox Customer"
	body, err := json.Marshal(statusWebhook{
		Object: "whatsapp_business_account",
		Entry: []webhookEntry{{ID: s.cfg.WABAID, Changes: []webhookChange{{Field: "messages", Value: webhookValue{
			MessagingProduct: "whatsapp",
			Metadata:         webhookMetadata{DisplayPhoneNumber: s.cfg.DisplayPhoneNumber, PhoneNumberID: s.cfg.PhoneNumberID},
			Contacts:         []inboundContact{c},
			Messages:         []inboundMessage{msg},
		}}}}},
	})
	if err != nil {
		return fmt.Errorf("customer writes: %w", err)
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("X-Hub-Signature-256", WhatsAppSignature(s.cfg.AppSecret, body))
	return s.deliver(ctx, callback{provider: ProviderWhatsApp, status: "inbound", id: msg.ID, url: s.cfg.WhatsAppWebhookURL, body: body, header: h})
}

// serveInbound lets a person play the customer by hand:
// POST /inbound/whatsapp with form fields from and text.
func (s *Sandbox) serveInbound(w http.ResponseWriter, r *http.Request) {
	from, text := r.FormValue("from"), strings.TrimSpace(r.FormValue("text"))
	if from == "" || text == "" {
		http.Error(w, "want form fields from (a phone number) and text", http.StatusBadRequest)
		return
	}
	if err := s.CustomerWrites(r.Context(), from, text); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "delivered %q from %s\n", text, from)
}
