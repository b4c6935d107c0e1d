package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// graphRequest is the part of a Cloud API send body the sandbox reads.
type graphRequest struct {
	MessagingProduct string `json:"messaging_product"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		Body string `json:"body"`
	} `json:"text"`
	Template *struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
	// Media and interactive objects are only checked for presence.
	Image       json.RawMessage `json:"image"`
	Document    json.RawMessage `json:"document"`
	Audio       json.RawMessage `json:"audio"`
	Video       json.RawMessage `json:"video"`
	Interactive json.RawMessage `json:"interactive"`
}

// object returns the raw object of a media or interactive message type.
func (r *graphRequest) object() json.RawMessage {
	switch r.Type {
	case "image":
		return r.Image
	case "document":
		return r.Document
	case "audio":
		return r.Audio
	case "video":
		return r.Video
	case "interactive":
		return r.Interactive
	}
	return nil
}

// graphResponse is the Cloud API's answer to an accepted send.
type graphResponse struct {
	MessagingProduct string         `json:"messaging_product"`
	Contacts         []graphContact `json:"contacts"`
	Messages         []graphMessage `json:"messages"`
}

type graphContact struct {
	Input string `json:"input"`
	WaID  string `json:"wa_id"`
}

type graphMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// graphError is the body of a Graph API error: {"error": {...}}.
type graphError struct {
	Message      string          `json:"message"`
	Type         string          `json:"type"`
	Code         int             `json:"code"`
	ErrorData    *graphErrorData `json:"error_data,omitempty"`
	ErrorSubcode int             `json:"error_subcode,omitempty"`
	FBTraceID    string          `json:"fbtrace_id"`
}

type graphErrorData struct {
	MessagingProduct string `json:"messaging_product,omitempty"`
	Details          string `json:"details"`
}

// cloudAPIError returns a Cloud API error in Meta's shape: the message is
// "(#code) title" and error_data carries the details.
func cloudAPIError(code int, title, details string) graphError {
	return graphError{
		Message:   "(#" + strconv.Itoa(code) + ") " + title,
		Type:      "OAuthException",
		Code:      code,
		ErrorData: &graphErrorData{MessagingProduct: "whatsapp", Details: details},
	}
}

// cloudAPIErrorFor returns the synchronous error for a code in the outcome
// table.
func cloudAPIErrorFor(code int) graphError {
	title, details := errorText(code)
	e := cloudAPIError(code, title, details)
	if code == codeWARateLimit {
		e.ErrorSubcode = 2494055 // as in Meta's published example
	}
	return e
}

// errorText returns Meta's title and details for the Cloud API error codes
// the outcome table uses.
func errorText(code int) (title, details string) {
	switch code {
	case codeWAUndeliverable:
		return "Message undeliverable.", "Unable to deliver message. Reasons can include: " +
			"The recipient phone number is not a WhatsApp phone number; " +
			"The recipient has not accepted our new Terms of Service and Privacy Policy; " +
			"The recipient is using an old WhatsApp version; must use the following WhatsApp version or greater: " +
			"Android 2.21.15.15, SMBA 2.21.15.15, iOS 2.21.170.4, SMBI 2.21.170.4, KaiOS 2.2130.10, Web 2.2132.6"
	case codeWAReengagement:
		return "Re-engagement message", "Message failed to send because more than 24 hours have passed " +
			"since the customer last replied to this number."
	case codeWARateLimit:
		return "Rate limit hit", "Cloud API message throughput has been reached."
	case codeWATemplatePaused:
		return "Template is Paused", "The template is paused due to low quality, so it cannot be sent."
	case codeWATemplateDisabled:
		return "Template is Disabled", "The template has been disabled due to low quality, so it cannot be sent."
	}
	return "Unknown error", "An unknown error occurred."
}

// writeGraphError writes e with the given HTTP status.
func writeGraphError(w http.ResponseWriter, status int, e graphError) {
	e.FBTraceID = fbTraceID()
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+e.Message+`"`)
	}
	writeJSON(w, status, struct {
		Error graphError `json:"error"`
	}{e})
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sandbox: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// graphAuthorized checks the Graph API access token of r, and answers 401
// with Graph error 190 when it is wrong.
func (s *Sandbox) graphAuthorized(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = r.URL.Query().Get("access_token")
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AccessToken)) != 1 {
		writeGraphError(w, http.StatusUnauthorized, graphError{
			Message: "Invalid OAuth access token - Cannot parse access token",
			Type:    "OAuthException",
			Code:    codeGraphAccessToken,
		})
		return false
	}
	return true
}

// serveWhatsApp handles POST /{version}/{phone_number_id}/messages.
func (s *Sandbox) serveWhatsApp(w http.ResponseWriter, r *http.Request) {
	if !s.graphAuthorized(w, r) {
		return
	}
	if id := r.PathValue("phone_number_id"); id != s.cfg.PhoneNumberID {
		writeGraphError(w, http.StatusBadRequest, graphError{
			Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, "+
				"cannot be loaded due to missing permissions, or does not support this operation. "+
				"Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id),
			Type: "GraphMethodException",
			Code: codeGraphInvalidParam,
		})
		return
	}

	var req graphRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err := dec.Decode(&req); err != nil {
		writeGraphError(w, http.StatusBadRequest, cloudAPIError(codeGraphInvalidParam,
			"Invalid parameter", "Request body is not a valid JSON object: "+err.Error()))
		return
	}
	if req.Type == "" {
		req.Type = "text" // Meta's default
	}
	if e, bad := checkGraphRequest(&req); bad {
		writeGraphError(w, http.StatusBadRequest, e)
		return
	}

	wa := digits(req.To)
	rcpt := lookup(wa)
	if s.hang(rcpt.whatsapp, r) {
		return
	}
	if s.refuseOnce(rcpt.whatsapp, wa) {
		writeGraphError(w, http.StatusBadRequest, cloudAPIErrorFor(rcpt.whatsapp.refuse))
		s.log.Info("sandbox: message refused", "provider", ProviderWhatsApp, "to", maskPhone(req.To),
			"error_code", rcpt.whatsapp.refuse, "outcome", rcpt.name)
		return
	}

	m := SentMessage{
		Provider:     ProviderWhatsApp,
		ID:           newWamid(wa),
		To:           req.To,
		Type:         req.Type,
		Outcome:      rcpt.name,
		Time:         time.Now(),
		CallbackData: req.BizOpaqueCallbackData,
	}
	msg := graphMessage{ID: m.ID}
	if t := req.Template; t != nil && req.Type == "template" {
		m.Template, m.Language = t.Name, t.Language.Code
		for _, c := range t.Components {
			if c.Type != "body" {
				continue
			}
			for _, p := range c.Parameters {
				m.Params = append(m.Params, p.Text)
			}
		}
		msg.MessageStatus = "accepted"
	} else if req.Text != nil {
		m.Body = req.Text.Body
	}
	if req.Type == "interactive" {
		m.Body, m.Choices = interactiveChoices(req.Interactive)
	}

	steps := rcpt.whatsapp.steps
	if code := s.templateFailure(m.Template, m.Language); m.Template != "" && code != 0 {
		steps = []step{{status: "failed", code: code}}
	}
	var run func(context.Context)
	if len(steps) > 0 {
		run = func(ctx context.Context) {
			s.runSteps(ctx, steps, func(st step) (callback, error) { return s.whatsappCallback(m, wa, st) })
		}
	}
	if !s.accept(m, run) {
		writeGraphError(w, http.StatusServiceUnavailable, cloudAPIError(codeGraphTemporary,
			"Service temporarily unavailable", "The sandbox is shutting down."))
		return
	}
	writeJSON(w, http.StatusOK, graphResponse{
		MessagingProduct: "whatsapp",
		Contacts:         []graphContact{{Input: req.To, WaID: wa}},
		Messages:         []graphMessage{msg},
	})
}

// interactiveObject is the part of an interactive message the sandbox
// keeps: its body and the choices it offers.
type interactiveObject struct {
	Type string `json:"type"`
	Body struct {
		Text string `json:"text"`
	} `json:"body"`
	Action struct {
		Buttons []struct {
			Reply Choice `json:"reply"`
		} `json:"buttons"`
		Sections []struct {
			Rows []Choice `json:"rows"`
		} `json:"sections"`
	} `json:"action"`
}

// interactiveChoices returns the body of an interactive message and the
// reply buttons or list rows it offers; nothing when it does not decode.
func interactiveChoices(raw json.RawMessage) (string, []Choice) {
	var in interactiveObject
	if json.Unmarshal(raw, &in) != nil {
		return "", nil
	}
	var out []Choice
	for _, b := range in.Action.Buttons {
		out = append(out, b.Reply)
	}
	for _, sec := range in.Action.Sections {
		for _, r := range sec.Rows {
			r.List = true
			out = append(out, r)
		}
	}
	return in.Body.Text, out
}

// checkGraphRequest checks a send body as the Cloud API does, and returns
// the error to answer if it is bad.
func checkGraphRequest(req *graphRequest) (graphError, bool) {
	switch {
	case req.MessagingProduct == "":
		return graphError{Message: "(#100) The parameter messaging_product is required.",
			Type: "OAuthException", Code: codeGraphInvalidParam}, true
	case req.MessagingProduct != "whatsapp":
		return graphError{Message: fmt.Sprintf("(#100) Param messaging_product must be one of {WHATSAPP} - got %q.", req.MessagingProduct),
			Type: "OAuthException", Code: codeGraphInvalidParam}, true
	case req.To == "":
		return graphError{Message: "(#100) The parameter to is required.",
			Type: "OAuthException", Code: codeGraphInvalidParam}, true
	case digits(req.To) == "":
		return cloudAPIError(codeWAInvalidParam, "Parameter value is not valid",
			fmt.Sprintf("The parameter to (%q) is not a phone number.", req.To)), true
	case len(req.BizOpaqueCallbackData) > maxOpaqueCallbackDataLen:
		return graphError{Message: "(#100) Param biz_opaque_callback_data must be at most 512 characters long.",
			Type: "OAuthException", Code: codeGraphInvalidParam}, true
	}
	switch req.Type {
	case "text":
		if req.Text == nil || req.Text.Body == "" {
			return cloudAPIError(codeWAMissingParam, "Required parameter is missing",
				"The parameter text['body'] is required."), true
		}
	case "template":
		switch {
		case req.Template == nil || req.Template.Name == "":
			return cloudAPIError(codeWAMissingParam, "Required parameter is missing",
				"The parameter template['name'] is required."), true
		case req.Template.Language.Code == "":
			return cloudAPIError(codeWAMissingParam, "Required parameter is missing",
				"The parameter template['language']['code'] is required."), true
		}
	case "image", "document", "audio", "video", "interactive":
		if len(req.object()) == 0 || string(req.object()) == "null" {
			return cloudAPIError(codeWAMissingParam, "Required parameter is missing",
				fmt.Sprintf("The parameter %s is required.", req.Type)), true
		}
	default:
		return cloudAPIError(codeWAUnsupportedType, "Unsupported message type",
			fmt.Sprintf("Unsupported message type %q. The sandbox accepts template, text, image, document, audio, video and interactive.", req.Type)), true
	}
	return graphError{}, false
}

// Webhook payload, as in Meta's status and messages webhook references.
type (
	statusWebhook struct {
		Object string         `json:"object"`
		Entry  []webhookEntry `json:"entry"`
	}
	webhookEntry struct {
		ID      string          `json:"id"`
		Changes []webhookChange `json:"changes"`
	}
	webhookChange struct {
		Value webhookValue `json:"value"`
		Field string       `json:"field"`
	}
	webhookValue struct {
		MessagingProduct string           `json:"messaging_product"`
		Metadata         webhookMetadata  `json:"metadata"`
		Statuses         []webhookStatus  `json:"statuses,omitempty"`
		Contacts         []inboundContact `json:"contacts,omitempty"` // inbound messages
		Messages         []inboundMessage `json:"messages,omitempty"` // inbound messages
	}
	webhookMetadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	webhookStatus struct {
		ID                    string        `json:"id"`
		Status                string        `json:"status"`
		Timestamp             string        `json:"timestamp"`
		RecipientID           string        `json:"recipient_id"`
		BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
		Pricing               *pricing      `json:"pricing,omitempty"`
		Errors                []statusError `json:"errors,omitempty"`
	}
	pricing struct {
		Billable     bool   `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	}
	statusError struct {
		Code      int             `json:"code"`
		Title     string          `json:"title"`
		Message   string          `json:"message"`
		ErrorData statusErrorData `json:"error_data"`
		Href      string          `json:"href"`
	}
	statusErrorData struct {
		Details string `json:"details"`
	}
)

// whatsappCallback builds the signed status webhook for st of message m
// sent to the WhatsApp id wa.
func (s *Sandbox) whatsappCallback(m SentMessage, wa string, st step) (callback, error) {
	status := webhookStatus{
		ID:          m.ID,
		Status:      st.status,
		Timestamp:   strconv.FormatInt(time.Now().Unix(), 10),
		RecipientID: wa,
	}
	if st.status == "failed" {
		// Meta documents biz_opaque_callback_data for sent, delivered and
		// read only; leave it out here so that receivers fall back to the
		// wamid, as they must in production.
		title, details := errorText(st.code)
		status.Errors = []statusError{{
			Code:      st.code,
			Title:     title,
			Message:   title,
			ErrorData: statusErrorData{Details: details},
			Href:      "/documentation/business-messaging/whatsapp/support/error-codes",
		}}
	} else {
		status.BizOpaqueCallbackData = m.CallbackData
		status.Pricing = &pricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: "utility"}
		if m.Type == "text" {
			status.Pricing = &pricing{Billable: false, PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
		}
	}
	body, err := json.Marshal(statusWebhook{
		Object: "whatsapp_business_account",
		Entry: []webhookEntry{{
			ID: s.cfg.WABAID,
			Changes: []webhookChange{{
				Field: "messages",
				Value: webhookValue{
					MessagingProduct: "whatsapp",
					Metadata: webhookMetadata{
						DisplayPhoneNumber: s.cfg.DisplayPhoneNumber,
						PhoneNumberID:      s.cfg.PhoneNumberID,
					},
					Statuses: []webhookStatus{status},
				},
			}},
		}},
	})
	if err != nil {
		return callback{}, fmt.Errorf("encode whatsapp %s status for %s: %w", st.status, m.ID, err)
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "facebookexternalua")
	h.Set("X-Hub-Signature-256", WhatsAppSignature(s.cfg.AppSecret, body))
	return callback{
		provider: ProviderWhatsApp,
		status:   st.status,
		id:       m.ID,
		url:      s.cfg.WhatsAppWebhookURL,
		body:     body,
		header:   h,
	}, nil
}

// runSteps posts the status callbacks of steps in order, each after its
// delay, until they are done or ctx ends.
func (s *Sandbox) runSteps(ctx context.Context, steps []step, build func(step) (callback, error)) {
	for _, st := range steps {
		if !pause(ctx, s.delay(st)) {
			return
		}
		cb, err := build(st)
		if err != nil {
			s.log.Error("sandbox: build status callback", "err", err)
			continue
		}
		// deliver logs its own failures; the next status follows either way,
		// as with a real provider.
		_ = s.deliver(ctx, cb)
	}
}

// newWamid returns a message id shaped like Meta's: "wamid." and the base64
// of a small binary record holding the recipient's digits and a random
// 18-character hex id.
func newWamid(wa string) string {
	if len(wa) > 20 {
		wa = wa[:20]
	}
	b := []byte{0x1c, 0x18, byte(len(wa))}
	b = append(b, wa...)
	b = append(b, 0x15, 0x02, 0x00, 0x11, 0x18, 0x12)
	b = append(b, strings.ToUpper(randomHex(9))...)
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// fbTraceID returns a random id shaped like Graph's fbtrace_id.
func fbTraceID() string {
	b := make([]byte, 17)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)[:23]
}
