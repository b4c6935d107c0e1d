package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
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

// InboundHeader, set to 1, lets a form post play the customer
// (serveInbound): a browser cannot add it to a cross-site form post.
const InboundHeader = "X-Switchback-Sandbox"

// maxInboundBody bounds the body of a hand-played inbound message.
const maxInboundBody = 64 << 10

// serveInbound lets a person play the customer by hand: POST
// /inbound/whatsapp with a JSON body {"from": NUMBER, "text": TEXT}, or
// with form fields from and text and the header X-Switchback-Sandbox: 1.
// A form post without the header is refused (403), as is any other body
// (415): a web page the developer visits could post a form here, and
// text=STOP would opt anyone out.
func (s *Sandbox) serveInbound(w http.ResponseWriter, r *http.Request) {
	from, text, status, err := inboundFields(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if err := s.CustomerWrites(r.Context(), from, text); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "delivered %q from %s\n", text, from)
}

// inboundFields reads from and text of a hand-played inbound message; on
// an error, the HTTP status to answer with it.
func inboundFields(w http.ResponseWriter, r *http.Request) (from, text string, status int, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxInboundBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		var in struct{ From, Text string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return "", "", http.StatusBadRequest, fmt.Errorf("JSON body: %w", err)
		}
		from, text = in.From, in.Text
	case mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data":
		return "", "", http.StatusUnsupportedMediaType, errors.New(`want Content-Type application/json and {"from": NUMBER, "text": TEXT}`)
	case r.Header.Get(InboundHeader) != "1":
		return "", "", http.StatusForbidden, errors.New("form posts need the header " + InboundHeader +
			`: 1 (cross-site forms cannot set it), or send JSON: {"from": NUMBER, "text": TEXT}`)
	default:
		from, text = r.FormValue("from"), r.FormValue("text")
	}
	if text = strings.TrimSpace(text); from == "" || text == "" {
		return "", "", http.StatusBadRequest, errors.New("want from (a phone number) and text")
	}
	return from, text, 0, nil
}
