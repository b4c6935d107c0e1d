package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/internal/phone"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// ReplyEvent is the name of the event that delivers an inbound message to
// the sender's running journeys, as a journeys.EventInput on the
// journeys.SignalEvent signal. Its vars are:
//
//	channel     whatsapp or sms
//	text        the text, or the title of the button or list row chosen
//	payload     the payload of a template button, or the id of an
//	            interactive reply button or list row ("" for text)
//	kind        text, button, button_reply, list_reply, image, ...
//	from        the sender's contact key (never the number)
//	message_id  the provider's id of the inbound message
//	keyword     opt_out or opt_in when the message was one, else ""
const ReplyEvent = "reply"

// JourneyLister finds workflows by a visibility query; a Temporal
// client.Client is one. Inbound messages use it to find the sender's
// running journeys by their SwitchbackContact search attribute.
type JourneyLister interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

// KeywordAction is what an inbound keyword asks for.
type KeywordAction string

// Keyword actions.
const (
	KeywordNone   KeywordAction = ""
	KeywordOptOut KeywordAction = "opt_out"
	KeywordOptIn  KeywordAction = "opt_in"
)

// Keywords are the whole-message keywords that opt a contact out of, or
// back into, messages on the channel they were sent on. A message matches
// when, with everything but letters and digits removed, it equals a
// keyword in any case: "Stop!", "stop all" and "Opt-out" match STOP,
// STOPALL and OPTOUT.
type Keywords struct {
	OptOut []string
	OptIn  []string
}

// DefaultKeywords returns the keywords Twilio and carriers honour, and the
// text of WhatsApp's marketing opt-out button. YES is not an opt-in by
// default: customers answer journeys with it.
func DefaultKeywords() Keywords {
	return Keywords{
		OptOut: []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOPPROMOTIONS"},
		OptIn:  []string{"START", "UNSTOP"},
	}
}

// Match returns the action of text.
func (k Keywords) Match(text string) KeywordAction {
	norm := keywordForm(text)
	if norm == "" {
		return KeywordNone
	}
	for _, set := range []struct {
		words  []string
		action KeywordAction
	}{{k.OptOut, KeywordOptOut}, {k.OptIn, KeywordOptIn}} {
		for _, w := range set.words {
			if keywordForm(w) == norm {
				return set.action
			}
		}
	}
	return KeywordNone
}

// keywordForm keeps the letters and digits of s, upper-cased.
func keywordForm(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		return -1
	}, s)
}

// Inbound is one message a customer sent.
type Inbound struct {
	Channel   channels.Channel
	Provider  string
	MessageID string
	// From is the sender's number in E.164 form.
	From string
	// Kind is the provider's message type: text, button, button_reply, ...
	Kind    string
	Text    string
	Payload string
	// At is the provider's time of the message; zero when it gives none
	// (Twilio), and then the time it first arrived.
	At time.Time
	// InReplyTo is the provider's id of the message this one answers
	// (WhatsApp's context.id), "" for none: it names the contact the
	// answered message was sent to, whatever number the sender has now.
	InReplyTo string
}

// keywords returns the configured keywords, defaults filling empty lists.
func (h *Handler) keywords() Keywords {
	k, def := h.cfg.Keywords, DefaultKeywords()
	if len(k.OptOut) == 0 {
		k.OptOut = def.OptOut
	}
	if len(k.OptIn) == 0 {
		k.OptIn = def.OptIn
	}
	return k
}

func (h *Handler) now() time.Time {
	if h.cfg.Now == nil {
		return time.Now()
	}
	return h.cfg.Now()
}

// Receive records an inbound message and delivers it: the contact is
// created if new; the message opens (or refreshes) the 24-hour window on
// its channel and marks the channel reachable; an opt-out keyword
// suppresses the channel and withdraws marketing consent on it, an opt-in
// keyword lifts that suppression and grants it, unless a later keyword or
// consent is in force; then the message goes as a ReplyEvent to each of
// the sender's running journeys and is logged as a reply event of each.
//
// A message is received once, by its provider's id: a provider's retry
// of one not received in full does it again, dated as first received,
// and a retry or replay of one received in full changes nothing.
func (h *Handler) Receive(ctx context.Context, in Inbound) error {
	switch {
	case h.cfg.Messages == nil:
		return errors.New("receive inbound message: no store")
	case in.Provider == "" || in.MessageID == "":
		return errors.New("receive inbound message: no provider or message id, which tell a replay")
	}
	if in.At.IsZero() {
		in.At = h.now()
	}
	st := h.cfg.Messages
	claim, err := st.ClaimInbound(ctx, in.Provider, in.MessageID, in.At)
	if err != nil {
		return fmt.Errorf("receive inbound message: %w", err)
	}
	if claim.Done {
		h.log.Info("inbound message received before; ignored", "provider", in.Provider, "message_id", in.MessageID)
		return nil
	}
	in.At = claim.At
	key, err := h.senderKey(ctx, in)
	if err != nil {
		return fmt.Errorf("receive inbound message: %w", err)
	}
	action, err := h.record(ctx, key, in)
	if err != nil {
		return fmt.Errorf("receive inbound message: %w", err)
	}
	n, err := h.deliverReply(ctx, key, in, action)
	if err != nil {
		return fmt.Errorf("receive inbound message: %w", err)
	}
	if err := st.CompleteInbound(ctx, in.Provider, in.MessageID); err != nil {
		return fmt.Errorf("receive inbound message: %w", err)
	}
	h.log.Info("inbound message", "channel", in.Channel, "provider", in.Provider, "message_id", in.MessageID,
		"contact", key, "kind", in.Kind, "keyword", action, "journeys", n)
	return nil
}

// senderKey returns the contact key of an inbound message's sender. A
// WhatsApp ID may differ from the number a journey sent to (Brazil's
// ninth digit, Mexico's 1): the contact is the one the answered message
// went to; else the sender's own number's, if the store knows it; else
// that of another form of the number (phone.Variants) that it knows; else
// the sender's own.
func (h *Handler) senderKey(ctx context.Context, in Inbound) (string, error) {
	st := h.cfg.Messages
	if in.InReplyTo != "" {
		key, err := st.MessageContact(ctx, in.Provider, in.InReplyTo)
		if !errors.Is(err, store.ErrNotFound) {
			return key, err
		}
	}
	for _, number := range append([]string{in.From}, phone.Variants(in.From)...) {
		key := journeys.ContactKey(h.cfg.ContactKey, number)
		known, err := st.KnownContact(ctx, key)
		if err != nil || known {
			return key, err
		}
	}
	return journeys.ContactKey(h.cfg.ContactKey, in.From), nil
}

// record records what an inbound message says of its sender, and returns
// the keyword action it applied.
func (h *Handler) record(ctx context.Context, key string, in Inbound) (KeywordAction, error) {
	st := h.cfg.Messages
	if key == journeys.ContactKey(h.cfg.ContactKey, in.From) {
		// The number is the key's: a contact matched under another form
		// of it keeps the number it has.
		if err := st.UpsertContact(ctx, store.Contact{Key: key, Number: in.From}); err != nil {
			return KeywordNone, err
		}
	}
	if err := st.RecordInbound(ctx, key, in.Channel, in.At); err != nil {
		return KeywordNone, err
	}
	if err := st.SetReachability(ctx, store.Reachability{ContactKey: key, Channel: in.Channel, Reachable: true, Reason: "inbound message", At: in.At}); err != nil {
		return KeywordNone, err
	}
	return h.applyKeyword(ctx, key, in, h.keywords().Match(in.Text))
}

// deliverReply signals an inbound message to the sender's running
// journeys, and logs a reply event of each; it returns how many it
// reached.
func (h *Handler) deliverReply(ctx context.Context, key string, in Inbound, action KeywordAction) (int, error) {
	ids, err := h.runningJourneys(ctx, key)
	if err != nil {
		return 0, err
	}
	ev := journeys.EventInput{
		Name: ReplyEvent,
		ID:   in.Provider + ":" + in.MessageID,
		Vars: map[string]string{
			"channel": string(in.Channel), "text": in.Text, journeys.PayloadVar: in.Payload, "kind": in.Kind,
			"from": key, "message_id": in.MessageID, "keyword": string(action),
		},
	}
	for _, j := range ids {
		err := h.cfg.Temporal.SignalWorkflow(ctx, j.workflowID, "", journeys.SignalEvent, ev)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			continue // ended since it was listed
		case err != nil:
			return 0, fmt.Errorf("deliver reply to journey %s: %w", j.workflowID, err)
		}
		reply := store.MessageEvent{
			Provider: in.Provider, MessageID: in.MessageID + "#" + j.workflowID, Status: store.EventReply,
			Journey: j.journey, WorkflowID: j.workflowID, Channel: in.Channel, ContactKey: key, At: in.At,
		}
		if _, err := h.cfg.Messages.RecordEvent(ctx, reply); err != nil {
			return 0, fmt.Errorf("record reply to journey %s: %w", j.workflowID, err)
		}
	}
	return len(ids), nil
}

// applyKeyword records what an opt-out or opt-in keyword asks for, in the
// order of the messages' times: the marketing consent first
// (store.ApplyConsent, which records it only when it changes and refuses
// one older than the consent in force), then the opt-out suppression,
// which follows the consent. It returns the action applied: none for a
// keyword that a later one, or a later consent, overrides.
func (h *Handler) applyKeyword(ctx context.Context, key string, in Inbound, action KeywordAction) (KeywordAction, error) {
	if action == KeywordNone {
		return KeywordNone, nil
	}
	st := h.cfg.Messages
	source := "inbound keyword " + strings.ToUpper(strings.TrimSpace(in.Text))
	granted := action == KeywordOptIn
	c := store.Consent{ContactKey: key, Channel: in.Channel, Purpose: string(journeys.Marketing), Granted: granted, Source: source, At: in.At}
	change, err := store.ApplyConsent(ctx, st, c)
	switch {
	case err != nil:
		return KeywordNone, err
	case change == store.ConsentSuperseded:
		h.log.Info("keyword older than the consent in force; ignored", "provider", in.Provider,
			"message_id", in.MessageID, "contact", key, "keyword", action)
		return KeywordNone, nil
	case granted:
		return action, st.Unsuppress(ctx, key, in.Channel, store.ReasonOptOut)
	}
	return action, st.Suppress(ctx, store.Suppression{ContactKey: key, Channel: in.Channel, Reason: store.ReasonOptOut, Source: source, At: in.At})
}

// runningJourney is a journey found by its contact.
type runningJourney struct{ workflowID, journey string }

// runningJourneys lists the running journeys of a contact.
func (h *Handler) runningJourneys(ctx context.Context, key string) ([]runningJourney, error) {
	if h.cfg.Journeys == nil {
		return nil, nil
	}
	query := fmt.Sprintf("%s = %q AND ExecutionStatus = %q", journeys.ContactAttr.GetName(), key, "Running")
	dc := converter.GetDefaultDataConverter()
	var out []runningJourney
	var token []byte
	for {
		resp, err := h.cfg.Journeys.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("find running journeys of contact %s: %w", key, err)
		}
		for _, ex := range resp.GetExecutions() {
			j := runningJourney{workflowID: ex.GetExecution().GetWorkflowId()}
			if p := ex.GetSearchAttributes().GetIndexedFields()[journeys.JourneyAttr.GetName()]; p != nil {
				if err := dc.FromPayload(p, &j.journey); err != nil {
					h.log.Warn("unreadable journey search attribute", "workflow_id", j.workflowID, "error", err)
				}
			}
			out = append(out, j)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// waMessage is the part of a WhatsApp inbound message that Receive needs,
// button and interactive replies included.
type waMessage struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	// Context names the message this one answers, if any.
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string   `json:"type"`
		ButtonReply *waReply `json:"button_reply"`
		ListReply   *waReply `json:"list_reply"`
	} `json:"interactive"`
}

type waReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// inbound turns a WhatsApp message into an Inbound; an error when its
// sender is not a phone number by the send rule (phone.Normalize).
func (m waMessage) inbound() (Inbound, error) {
	from, err := phone.Normalize(m.From)
	if err != nil {
		return Inbound{}, fmt.Errorf("sender: %w", err)
	}
	in := Inbound{Channel: channels.WhatsApp, Provider: whatsapp.Provider, MessageID: m.ID, From: from, Kind: m.Type}
	if m.Context != nil {
		in.InReplyTo = m.Context.ID
	}
	if secs, err := strconv.ParseInt(m.Timestamp, 10, 64); err == nil && secs > 0 {
		in.At = time.Unix(secs, 0).UTC()
	}
	switch {
	case m.Text != nil:
		in.Text = m.Text.Body
	case m.Button != nil:
		in.Text, in.Payload = m.Button.Text, m.Button.Payload
	case m.Interactive != nil:
		in.Kind = m.Interactive.Type
		for _, r := range []*waReply{m.Interactive.ButtonReply, m.Interactive.ListReply} {
			if r != nil {
				in.Text, in.Payload = r.Title, r.ID
			}
		}
	}
	return in, nil
}

// whatsAppInbound receives the inbound messages of a notification. The
// notification handler calls it after signalling the statuses.
func (h *Handler) whatsAppInbound(ctx context.Context, n *whatsapp.Notification) error {
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != whatsapp.FieldMessages || len(c.Value.Messages) == 0 {
				continue
			}
			var v struct {
				Messages []waMessage `json:"messages"`
			}
			if err := json.Unmarshal(c.RawValue, &v); err != nil {
				return fmt.Errorf("%w: inbound messages: %v", whatsapp.ErrMalformedNotification, err)
			}
			for _, m := range v.Messages {
				in, err := m.inbound()
				if m.ID == "" || err != nil {
					h.log.Warn("whatsapp inbound message without id or sender; dropped", "type", m.Type,
						"message_id", m.ID, "error", err)
					continue
				}
				if err := h.Receive(ctx, in); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// twilioInbound serves POST /webhooks/twilio/inbound: an SMS (or a
// WhatsApp message through Twilio, From "whatsapp:+1...") that a customer
// sent to a Twilio number. It answers an empty TwiML response: replies are
// the journeys' business.
func (h *Handler) twilioInbound(w http.ResponseWriter, r *http.Request) {
	form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	from := form.Get("From")
	sid := firstNonEmpty(form.Get("MessageSid"), form.Get("SmsMessageSid"), form.Get("SmsSid"))
	if from == "" || sid == "" {
		http.Error(w, "malformed inbound message: From and MessageSid are required", http.StatusBadRequest)
		return
	}
	in := Inbound{Channel: channels.SMS, Provider: twilio.Provider, MessageID: sid, Kind: "text", Text: form.Get("Body")}
	if num, ok := strings.CutPrefix(from, "whatsapp:"); ok {
		in.Channel, from = channels.WhatsApp, num
	}
	var err error
	if in.From, err = phone.Normalize(from); err != nil {
		http.Error(w, "malformed inbound message: From: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SignalTimeout)
	defer cancel()
	if err := h.Receive(ctx, in); err != nil {
		h.inboundFailed(w, "twilio", sid, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// inboundFailed answers an inbound message that could not be received:
// 400 when it was malformed, else 503 so that the provider retries.
func (h *Handler) inboundFailed(w http.ResponseWriter, provider, messageID string, err error) {
	if errors.Is(err, whatsapp.ErrMalformedNotification) {
		http.Error(w, "malformed notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.log.Error("could not receive inbound message; asking the provider to retry", "provider", provider,
		"message_id", messageID, "error", err)
	w.Header().Set("Retry-After", "5")
	http.Error(w, "temporarily unavailable, retry later", http.StatusServiceUnavailable)
}

// SuppressFromSendGrid records the suppression a SendGrid event asks for:
// a spam report, an unsubscribe (of a group too) or a hard bounce
// suppresses email for the address itself, under the address's contact
// key (the keyed hash of the normalised address), which eligibility
// checks for every email attempt to it, so every contact that has the
// address is covered. A group resubscribe lifts the unsubscribe. Other
// events are ignored. Call it for every SendGrid event; it may be
// repeated.
func (h *Handler) SuppressFromSendGrid(ctx context.Context, ev email.Event) error {
	var reason store.SuppressionReason
	switch {
	case ev.Kind == email.EventSpamReport:
		reason = store.ReasonSpamReport
	case ev.Kind == email.EventUnsubscribe || ev.Kind == email.EventGroupUnsubscribe || ev.Kind == email.EventGroupResubscribe:
		reason = store.ReasonUnsubscribe
	case ev.Kind == email.EventBounce && ev.BounceType != "blocked":
		reason = store.ReasonHardBounce
	default:
		return nil
	}
	if h.cfg.Messages == nil || ev.Email == "" {
		return fmt.Errorf("record sendgrid %s suppression: no store or no email address", ev.Kind)
	}
	addr := store.NormalEmail(ev.Email)
	key := journeys.ContactKey(h.cfg.ContactKey, addr)
	var err error
	if ev.Kind == email.EventGroupResubscribe {
		err = h.resubscribe(ctx, addr, key)
	} else {
		at := h.now()
		if ev.Timestamp > 0 {
			at = time.Unix(ev.Timestamp, 0).UTC()
		}
		err = h.cfg.Messages.Suppress(ctx, store.Suppression{ContactKey: key, Channel: channels.Email, Reason: reason, Source: "sendgrid " + string(ev.Kind), At: at})
	}
	if err != nil {
		return fmt.Errorf("record sendgrid %s suppression: %w", ev.Kind, err)
	}
	return nil
}

// resubscribe lifts the email unsubscribe of an address, whose contact
// key is key. Earlier versions suppressed the first contact with the
// address (by contact key) instead of the address: that one is lifted too.
func (h *Handler) resubscribe(ctx context.Context, addr, key string) error {
	st := h.cfg.Messages
	if err := st.Unsuppress(ctx, key, channels.Email, store.ReasonUnsubscribe); err != nil {
		return err
	}
	c, err := st.ContactByEmail(ctx, addr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return st.Unsuppress(ctx, c.Key, channels.Email, store.ReasonUnsubscribe)
}

// twilioForm reads a Twilio webhook's form after checking its signature
// over SWITCHBACK_PUBLIC_URL + the path and query. On false it has
// answered: 403 for a bad signature, 400 for a malformed body.
func (h *Handler) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, ok := h.readBody(w, r, "twilio")
	if !ok {
		return nil, false
	}
	u := strings.TrimSuffix(h.cfg.PublicURL, "/") + r.URL.RequestURI()
	if !twilio.VerifySignature(h.cfg.TwilioAuthToken, u, body, r.Header.Get(twilio.SignatureHeader)) {
		h.log.Warn("twilio webhook signature rejected", "url", u)
		h.signatureRejected("twilio")
		http.Error(w, "bad signature: X-Twilio-Signature does not match "+u+" (check SWITCHBACK_PUBLIC_URL and TWILIO_AUTH_TOKEN)", http.StatusForbidden)
		return nil, false
	}
	form, err := parseForm(r, body)
	if err != nil {
		http.Error(w, "malformed form: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return form, true
}
