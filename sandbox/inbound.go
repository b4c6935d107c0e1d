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
		Context     *inboundContext     `json:"context,omitempty"`
		From        string              `json:"from"`
		ID          string              `json:"id"`
		Timestamp   string              `json:"timestamp"`
		Type        string              `json:"type"`
		Text        *inboundText        `json:"text,omitempty"`
		Interactive *inboundInteractive `json:"interactive,omitempty"`
	}
	// inboundContext names the message an inbound one answers.
	inboundContext struct {
		From string `json:"from"`
		ID   string `json:"id"`
	}
	inboundText struct {
		Body string `json:"body"`
	}
	// inboundInteractive is a tap on a reply button or a list row.
	inboundInteractive struct {
		Type        string  `json:"type"` // button_reply or list_reply
		ButtonReply *Choice `json:"button_reply,omitempty"`
		ListReply   *Choice `json:"list_reply,omitempty"`
	}
)

// Choice is a reply button or a list row of an interactive message the
// sandbox accepted: its id comes back in the customer's reply.
type Choice struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// List marks a list row (else a reply button).
	List bool `json:"-"`
}

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
	msg.Text = &inboundText{Body: text}
	if err := s.customerSends(ctx, msg); err != nil {
		return fmt.Errorf("customer writes: %w", err)
	}
	return nil
}

// CustomerChooses plays a customer who taps the reply button, or picks
// the list row, whose id is id, in the latest interactive message the
// sandbox accepted for the number from that offers it: it posts the signed
// button_reply or list_reply webhook, answering that message (context),
// as Meta does. It is an error when no such message was sent.
func (s *Sandbox) CustomerChooses(ctx context.Context, from, id string) error {
	wa := digits(from)
	if wa == "" {
		return fmt.Errorf("customer chooses: %q is not a phone number", from)
	}
	m, c, ok := s.offered(wa, id)
	if !ok {
		return fmt.Errorf("customer chooses: no interactive message to %s offers the choice %q", maskPhone(from), id)
	}
	msg := inboundMessage{From: wa, ID: newWamid(wa), Timestamp: strconv.FormatInt(time.Now().Unix(), 10), Type: "interactive",
		Interactive: &inboundInteractive{Type: "button_reply", ButtonReply: &c}}
	if c.List {
		msg.Interactive = &inboundInteractive{Type: "list_reply", ListReply: &c}
	}
	msg.Context = &inboundContext{From: digits(s.cfg.DisplayPhoneNumber), ID: m.ID}
	if err := s.customerSends(ctx, msg); err != nil {
		return fmt.Errorf("customer chooses: %w", err)
	}
	return nil
}

// offered returns the latest WhatsApp message to wa that offers the
// choice id, and the choice.
func (s *Sandbox) offered(wa, id string) (SentMessage, Choice, bool) {
	sent := s.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		m := sent[i]
		if m.Provider != ProviderWhatsApp || digits(m.To) != wa {
			continue
		}
		for _, c := range m.Choices {
			if c.ID == id {
				return m, c, true
			}
		}
	}
	return SentMessage{}, Choice{}, false
}

// customerSends posts the signed inbound message webhook of msg.
func (s *Sandbox) customerSends(ctx context.Context, msg inboundMessage) error {
	wa := msg.From
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
		return err
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
// /inbound/whatsapp with a JSON body {"from": NUMBER, "text": TEXT} to
// write, or {"from": NUMBER, "choose": ID} to tap the reply button or
// pick the list row ID of an interactive message sent to NUMBER; or with
// form fields from and text (or choose) and the header
// X-Switchback-Sandbox: 1. A form post without the header is refused
// (403), as is any other body (415): a web page the developer visits
// could post a form here, and text=STOP would opt anyone out.
func (s *Sandbox) serveInbound(w http.ResponseWriter, r *http.Request) {
	in, status, err := inboundFields(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if in.Choose != "" {
		err = s.CustomerChooses(r.Context(), in.From, in.Choose)
	} else {
		err = s.CustomerWrites(r.Context(), in.From, in.Text)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if in.Choose != "" {
		fmt.Fprintf(w, "delivered the choice %q from %s\n", in.Choose, in.From)
		return
	}
	fmt.Fprintf(w, "delivered %q from %s\n", in.Text, in.From)
}

// handPlayed is a hand-played inbound message: text, or the id of a
// choice.
type handPlayed struct{ From, Text, Choose string }

// inboundFields reads a hand-played inbound message; on an error, the
// HTTP status to answer with it.
func inboundFields(w http.ResponseWriter, r *http.Request) (handPlayed, int, error) {
	const want = `{"from": NUMBER, "text": TEXT} or {"from": NUMBER, "choose": ID}`
	r.Body = http.MaxBytesReader(w, r.Body, maxInboundBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var in handPlayed
	switch {
	case mt == "application/json":
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return in, http.StatusBadRequest, fmt.Errorf("JSON body: %w", err)
		}
	case mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data":
		return in, http.StatusUnsupportedMediaType, errors.New("want Content-Type application/json and " + want)
	case r.Header.Get(InboundHeader) != "1":
		return in, http.StatusForbidden, errors.New("form posts need the header " + InboundHeader +
			": 1 (cross-site forms cannot set it), or send JSON: " + want)
	default:
		in = handPlayed{From: r.FormValue("from"), Text: r.FormValue("text"), Choose: r.FormValue("choose")}
	}
	in.Text, in.Choose = strings.TrimSpace(in.Text), strings.TrimSpace(in.Choose)
	if in.From == "" || (in.Text == "") == (in.Choose == "") {
		return in, http.StatusBadRequest, errors.New("want from (a phone number) and one of text and choose (the id of a button or list row)")
	}
	return in, 0, nil
}
