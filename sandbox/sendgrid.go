package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// ProviderSendGrid is the SendGrid Mail Send lookalike, as recorded in
// SentMessage.Provider.
const ProviderSendGrid = "sendgrid"

// Magic email recipients. The outcome depends on the local part of the
// address, before any "+tag": "bounce+1@acme.test" bounces too. Any other
// address behaves like EmailDefaultRecipient.
const (
	// EmailDefaultRecipient stands for every address not listed below:
	// processed, delivered, then opened.
	EmailDefaultRecipient = "someone@example.com"
	// EmailBounce is processed, then bounces (550 5.1.1 user unknown).
	EmailBounce = "bounce@example.com"
	// EmailDropped is dropped at once (Bounced Address), never processed.
	EmailDropped = "dropped@example.com"
	// EmailSilent is processed, and then nothing is heard.
	EmailSilent = "silent@example.com"
	// EmailDeferred is processed, deferred once, then delivered.
	EmailDeferred = "deferred@example.com"
	// EmailSpamReport is delivered, then reported as spam.
	EmailSpamReport = "spam@example.com"
	// EmailUnsubscribe is delivered, then unsubscribes.
	EmailUnsubscribe = "unsubscribe@example.com"
	// EmailRateLimited trips SendGrid's rate limit once: the first send in
	// a Sandbox's life is refused with HTTP 429 and Retry-After: 1; later
	// sends behave like EmailDefaultRecipient.
	EmailRateLimited = "ratelimited@example.com"
	// EmailRejected is refused with HTTP 400 on every send, as SendGrid
	// refuses a request it will never take.
	EmailRejected = "rejected@example.com"
	// EmailNoAnswer is never answered, until the client gives up: the
	// send's outcome is unknown to the sender.
	EmailNoAnswer = "noanswer@example.com"
)

// EmailOutcome describes what the sandbox does with an email to one magic
// recipient. EmailOutcomes lists them all.
type EmailOutcome struct {
	Address string // e.g. "bounce@example.com"
	Name    string // name of the constant holding Address, e.g. "EmailBounce"
	Email   string // what the SendGrid lookalike does, e.g. "accepted (HTTP 202); then processed, bounce"
}

// EmailOutcomes returns the magic email recipients and their outcomes,
// default first.
func EmailOutcomes() []EmailOutcome {
	var out []EmailOutcome
	for _, r := range emailRecipients() {
		out = append(out, EmailOutcome{Address: r.number, Name: r.name, Email: r.email.describe("accepted (HTTP 202)")})
	}
	return out
}

// emailRecipient ties a magic address to its rule.
type emailRecipient struct {
	number, name string // number holds the address
	email        rule
}

// emailRecipients returns the email outcome table, default first.
func emailRecipients() []emailRecipient {
	delivered := []step{{status: "processed"}, {status: "delivered"}, {status: "open"}}
	return []emailRecipient{
		{EmailDefaultRecipient, "EmailDefaultRecipient", rule{steps: delivered}},
		{EmailBounce, "EmailBounce", rule{steps: []step{{status: "processed"}, {status: "bounce"}}}},
		{EmailDropped, "EmailDropped", rule{steps: []step{{status: "dropped"}}}},
		{EmailSilent, "EmailSilent", rule{steps: []step{{status: "processed"}}}},
		{EmailDeferred, "EmailDeferred", rule{steps: []step{{status: "processed"}, {status: "deferred"}, {status: "delivered"}}}},
		{EmailSpamReport, "EmailSpamReport", rule{steps: []step{{status: "processed"}, {status: "delivered"}, {status: "spamreport"}}}},
		{EmailUnsubscribe, "EmailUnsubscribe", rule{steps: []step{{status: "processed"}, {status: "delivered"}, {status: "unsubscribe"}}}},
		{EmailRateLimited, "EmailRateLimited", rule{refuse: http.StatusTooManyRequests, httpOnly: true, firstOnly: true, steps: delivered}},
		{EmailRejected, "EmailRejected", rule{refuse: http.StatusBadRequest, httpOnly: true}},
		{EmailNoAnswer, "EmailNoAnswer", rule{hang: true}},
	}
}

// lookupEmail returns the recipient whose local part matches addr's.
func lookupEmail(addr string) emailRecipient {
	all := emailRecipients()
	local := localPart(addr)
	for _, r := range all[1:] {
		if localPart(r.number) == local {
			return r
		}
	}
	return all[0]
}

// localPart returns the lower-case local part of addr, without "+tag".
func localPart(addr string) string {
	local, _, _ := strings.Cut(strings.ToLower(addr), "@")
	local, _, _ = strings.Cut(local, "+")
	return local
}

// NewSendGridKey returns a new Event Webhook signing key and its public key
// in the form SendGrid shows it (base64 of the DER SubjectPublicKeyInfo),
// the value of SENDGRID_WEBHOOK_PUBLIC_KEY.
func NewSendGridKey() (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate sendgrid signing key: %w", err)
	}
	pub, err := encodePublicKey(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	return key, pub, nil
}

func encodePublicKey(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode sendgrid public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// SendGridSignature returns the X-Twilio-Email-Event-Webhook-Signature
// SendGrid sends with an Event Webhook body: the base64 of the ASN.1 ECDSA
// signature of SHA-256(timestamp || body).
func SendGridSignature(key *ecdsa.PrivateKey, timestamp string, body []byte) (string, error) {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
	if err != nil {
		return "", fmt.Errorf("sign sendgrid events: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// SendGridPublicKey returns the public key of the Event Webhook signatures,
// as SendGrid shows it, or "" when the SendGrid lookalike is off.
func (s *Sandbox) SendGridPublicKey() string {
	if s.sgKey == nil {
		return ""
	}
	pub, err := encodePublicKey(&s.sgKey.PublicKey)
	if err != nil {
		return ""
	}
	return pub
}

// sgRequest is the part of a Mail Send body the sandbox reads.
type sgRequest struct {
	From *struct {
		Email string `json:"email"`
	} `json:"from"`
	Subject          string `json:"subject"`
	Personalizations []struct {
		To []struct {
			Email string `json:"email"`
		} `json:"to"`
		Subject             string            `json:"subject"`
		CustomArgs          map[string]string `json:"custom_args"`
		DynamicTemplateData map[string]any    `json:"dynamic_template_data"`
	} `json:"personalizations"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
	TemplateID string            `json:"template_id"`
	Categories []string          `json:"categories"`
	CustomArgs map[string]string `json:"custom_args"`
}

// sgError is one entry of a SendGrid error body.
type sgError struct {
	Field   *string `json:"field"`
	Message string  `json:"message"`
	Help    *string `json:"help"`
}

func writeSendGridError(w http.ResponseWriter, status int, field, message string) {
	e := sgError{Message: message}
	if field != "" {
		e.Field = &field
	}
	writeJSON(w, status, struct {
		Errors []sgError `json:"errors"`
	}{[]sgError{e}})
}

// checkSendGridRequest checks a Mail Send body as SendGrid does, and
// returns the field and message of the first problem.
func checkSendGridRequest(req *sgRequest) (field, message string, bad bool) {
	switch {
	case req.From == nil || req.From.Email == "":
		return "from.email", "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.", true
	case len(req.Personalizations) == 0:
		return "personalizations", "The personalizations field is required and must have at least one personalization.", true
	}
	for i, p := range req.Personalizations {
		if len(p.To) == 0 {
			return fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", true
		}
		for j, to := range p.To {
			if _, err := mail.ParseAddress(to.Email); err != nil {
				return fmt.Sprintf("personalizations.%d.to.%d.email", i, j), "Does not contain a valid address.", true
			}
		}
		if req.TemplateID == "" && req.Subject == "" && p.Subject == "" {
			return "subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", true
		}
	}
	if req.TemplateID == "" && len(req.Content) == 0 {
		return "content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.", true
	}
	for i, c := range req.Content {
		if c.Type == "text/plain" && i != 0 {
			return "content", "If present, text/plain must be first, followed by text/html, followed by any other content.", true
		}
	}
	return "", "", false
}

// serveSendGrid handles POST /v3/mail/send.
func (s *Sandbox) serveSendGrid(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.SendGridAPIKey)) != 1 {
		writeSendGridError(w, http.StatusUnauthorized, "", "The provided authorization grant is invalid, expired, or revoked")
		return
	}
	var req sgRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody)).Decode(&req); err != nil {
		writeSendGridError(w, http.StatusBadRequest, "", "Bad Request")
		return
	}
	if field, msg, bad := checkSendGridRequest(&req); bad {
		writeSendGridError(w, http.StatusBadRequest, field, msg)
		return
	}
	to := req.Personalizations[0].To[0].Email
	rcpt := lookupEmail(to)
	if s.hang(rcpt.email, r) {
		return
	}
	if s.refuseOnce(rcpt.email, "email:"+localPart(to)) {
		if rcpt.email.refuse == http.StatusBadRequest {
			writeSendGridError(w, http.StatusBadRequest, "personalizations.0.to.0.email", "The recipient was rejected")
		} else {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
			writeSendGridError(w, http.StatusTooManyRequests, "", "too many requests")
		}
		s.log.Info("sandbox: message refused", "provider", ProviderSendGrid, "error_code", rcpt.email.refuse, "outcome", rcpt.name)
		return
	}

	p := req.Personalizations[0]
	m := SentMessage{
		Provider:   ProviderSendGrid,
		ID:         base64.RawURLEncoding.EncodeToString([]byte(randomHex(8)))[:22],
		To:         to,
		Type:       "email",
		Template:   req.TemplateID,
		Subject:    req.Subject,
		Outcome:    rcpt.name,
		Time:       time.Now(),
		CustomArgs: map[string]string{},
	}
	for k, v := range req.CustomArgs {
		m.CustomArgs[k] = v
	}
	for k, v := range p.CustomArgs {
		m.CustomArgs[k] = v
	}
	for _, c := range req.Content {
		if c.Type == "text/plain" {
			m.Body = c.Value
		}
	}
	var run func(context.Context)
	if steps := rcpt.email.steps; len(steps) > 0 {
		run = func(ctx context.Context) {
			s.runSteps(ctx, steps, func(st step) (callback, error) { return s.sendGridCallback(m, req.Categories, st) })
		}
	}
	if !s.accept(m, run) {
		writeSendGridError(w, http.StatusServiceUnavailable, "", "The sandbox is shutting down.")
		return
	}
	w.Header().Set("X-Message-Id", m.ID)
	w.WriteHeader(http.StatusAccepted)
}

// sendGridCallback builds the signed Event Webhook post for st of message m.
func (s *Sandbox) sendGridCallback(m SentMessage, categories []string, st step) (callback, error) {
	now := time.Now()
	ev := map[string]any{}
	// Custom args become top-level keys; SendGrid's own keys win.
	for k, v := range m.CustomArgs {
		ev[k] = v
	}
	ev["email"] = m.To
	ev["timestamp"] = now.Unix()
	ev["event"] = st.status
	ev["smtp-id"] = "<" + m.ID + "@ismtpd0001p1sandbox.sendgrid.net>"
	ev["sg_event_id"] = base64.RawURLEncoding.EncodeToString([]byte(randomHex(12)))
	ev["sg_message_id"] = m.ID + ".filterdrecv-sandbox-1-" + strings.ToUpper(randomHex(4)) + "-0.0"
	switch len(categories) {
	case 0:
	case 1:
		ev["category"] = categories[0]
	default:
		ev["category"] = categories
	}
	switch st.status {
	case "delivered":
		ev["response"] = "250 2.0.0 OK"
	case "deferred":
		ev["response"] = "421 4.7.0 try again later"
		ev["attempt"] = "1"
	case "bounce":
		ev["reason"] = "550 5.1.1 The email account that you tried to reach does not exist."
		ev["status"] = "5.1.1"
		ev["type"] = "bounce"
	case "dropped":
		ev["reason"] = "Bounced Address"
		ev["status"] = "5.0.0"
	case "open":
		ev["useragent"] = "Mozilla/5.0 (sandbox)"
		ev["ip"] = "127.0.0.1"
	}
	body, err := json.Marshal([]map[string]any{ev})
	if err != nil {
		return callback{}, fmt.Errorf("encode sendgrid %s event for %s: %w", st.status, m.ID, err)
	}
	body = append(body, '\r', '\n') // as SendGrid posts it
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, err := SendGridSignature(s.sgKey, ts, body)
	if err != nil {
		return callback{}, err
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "SendGrid Event API")
	h.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	h.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	return callback{provider: ProviderSendGrid, status: st.status, id: m.ID, url: s.cfg.SendGridWebhookURL, body: body, header: h}, nil
}
