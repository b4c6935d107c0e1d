package sandbox

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
)

// Magic recipients. A send to one of these numbers has a fixed outcome on
// each provider, so that a journey's fallback paths can be exercised without
// a real phone. Numbers are compared on their digits only: "+1 555-000-0001",
// "15550000001" and "whatsapp:+15550000001" all mean WhatsAppUndeliverable.
// Any other number behaves like DefaultRecipient.
const (
	// DefaultRecipient stands for every number not listed below. WhatsApp
	// reports sent, delivered, then read; SMS reports sent, then delivered.
	DefaultRecipient = "+15551234567"

	// WhatsAppUndeliverable is not on WhatsApp: the Cloud API accepts the
	// send, then reports it failed with error 131026 (Message undeliverable).
	// SMS is delivered.
	WhatsAppUndeliverable = "+15550000001"

	// WhatsAppSilent never reports back on WhatsApp: the send is accepted and
	// no status callback follows. SMS is delivered.
	WhatsAppSilent = "+15550000002"

	// WhatsAppWindowClosed has not written in the last 24 hours: the Cloud API
	// refuses every send synchronously with HTTP 400 and error 131047
	// (Re-engagement message). SMS is delivered.
	WhatsAppWindowClosed = "+15550000003"

	// Unreachable cannot be reached at all: WhatsApp fails with 131026 and SMS
	// is sent, then undelivered with error 30003 (Unreachable destination
	// handset).
	Unreachable = "+15550000004"

	// WhatsAppRateLimited trips the Cloud API's throughput limit once: the
	// first WhatsApp send to it in a Sandbox's life is refused with HTTP 400
	// and error 130429 (Rate limit hit); later sends behave like
	// DefaultRecipient. SMS is delivered.
	WhatsAppRateLimited = "+15550000005"

	// SMSInvalid is not a valid phone number: WhatsApp fails with 131026 and
	// Twilio refuses the create request synchronously with HTTP 400 and error
	// 21211 (Invalid 'To' Phone Number).
	SMSInvalid = "+15550000006"

	// WhatsAppDeliveredLate is slow: WhatsApp reports sent at once but
	// delivered only after Config.LateDelay (45s by default, longer than a
	// typical 30s wait), and never read. SMS is delivered.
	WhatsAppDeliveredLate = "+15550000007"

	// SMSRateLimited trips Twilio's rate limit once: the first SMS to it
	// in a Sandbox's life is refused with HTTP 429 and error 20429 (Too
	// Many Requests); later sends are delivered. WhatsApp behaves like
	// DefaultRecipient.
	SMSRateLimited = "+15550000008"

	// NoAnswer never gets an answer: WhatsApp and SMS sends to it are read
	// and never answered, until the client gives up, so their outcome is
	// unknown to the sender.
	NoAnswer = "+15550000009"
)

// Outcome describes what the sandbox does with a send to one magic
// recipient. Outcomes lists them all.
type Outcome struct {
	Number   string // E.164 form, e.g. "+15550000001"
	Name     string // name of the constant holding Number, e.g. "WhatsAppUndeliverable"
	WhatsApp string // what the WhatsApp Cloud API lookalike does, e.g. "accepted (HTTP 200); then failed 131026"
	SMS      string // what the Twilio Messages lookalike does
}

// Outcomes returns the magic recipients and their outcomes, default first,
// in a form suitable for a documentation table. The descriptions are derived
// from the same rules the handlers follow.
func Outcomes() []Outcome {
	var out []Outcome
	for _, r := range recipients() {
		out = append(out, Outcome{
			Number:   r.number,
			Name:     r.name,
			WhatsApp: r.whatsapp.describe("accepted (HTTP 200)"),
			SMS:      r.sms.describe("queued (HTTP 201)"),
		})
	}
	return out
}

// step is one status callback that follows an accepted send.
type step struct {
	status string // provider's status word: sent, delivered, read, failed, undelivered
	code   int    // error code carried by a failed or undelivered status
	late   bool   // wait Config.LateDelay rather than Config.StatusDelay first
}

// rule is what one provider does with a send to one recipient.
type rule struct {
	refuse    int    // synchronous error code, or 0 to accept
	status    int    // HTTP status of a refusal with an error code; 0 means 400
	httpOnly  bool   // refuse is an HTTP status with no provider error code (SendGrid)
	firstOnly bool   // refuse only the first send to the recipient; later sends follow steps
	hang      bool   // never answer the send
	steps     []step // status callbacks after an accepted send, in order
}

// describe renders r for Outcomes; accepted says how the provider answers an
// accepted send.
func (r rule) describe(accepted string) string {
	var b strings.Builder
	if r.hang {
		return "no answer (until the client gives up)"
	}
	switch {
	case r.refuse != 0 && r.httpOnly:
		b.WriteString("refused (HTTP " + strconv.Itoa(r.refuse) + ")")
	case r.refuse != 0:
		b.WriteString("refused (HTTP " + strconv.Itoa(cmp.Or(r.status, 400)) + ", error " + strconv.Itoa(r.refuse) + ")")
	}
	if r.refuse != 0 {
		if !r.firstOnly {
			return b.String()
		}
		b.WriteString(" on the first send; later sends ")
	}
	b.WriteString(accepted)
	if len(r.steps) == 0 {
		b.WriteString("; then no status at all")
		return b.String()
	}
	b.WriteString("; then ")
	for i, st := range r.steps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(st.status)
		if st.code != 0 {
			b.WriteString(" " + strconv.Itoa(st.code))
		}
		if st.late {
			b.WriteString(" after LateDelay (default 45s)")
		}
	}
	return b.String()
}

// recipient ties a magic number to its rule on each provider.
type recipient struct {
	number, name string
	whatsapp     rule
	sms          rule
}

// Error codes the sandbox produces.
const (
	codeGraphInvalidParam    = 100    // Graph: invalid or unsupported parameter
	codeGraphTemporary       = 2      // Graph: temporary downtime or overload
	codeGraphAccessToken     = 190    // Graph: access token invalid or expired
	codeWARateLimit          = 130429 // Cloud API: throughput reached
	codeWAUndeliverable      = 131026 // Cloud API: message undeliverable
	codeWAReengagement       = 131047 // Cloud API: 24h window closed
	codeWATemplatePaused     = 132015 // Cloud API: template paused for low quality
	codeWATemplateDisabled   = 132016 // Cloud API: template disabled for good
	codeWAMissingParam       = 131008 // Cloud API: required parameter missing
	codeWAInvalidParam       = 131009 // Cloud API: parameter value invalid
	codeWAUnsupportedType    = 131051 // Cloud API: unsupported message type
	codeTwilioAuthenticate   = 20003  // Twilio: authentication failed
	codeTwilioNotFound       = 20404  // Twilio: resource not found
	codeTwilioBadRequest     = 70002  // Twilio: request body could not be parsed
	codeTwilioUnavailable    = 20503  // Twilio: service unavailable
	codeTwilioBodyRequired   = 21602  // Twilio: message body required
	codeTwilioFromRequired   = 21603  // Twilio: From required
	codeTwilioToRequired     = 21604  // Twilio: To required
	codeTwilioBadCallback    = 21609  // Twilio: invalid StatusCallback URL
	codeTwilioBodyTooLong    = 21617  // Twilio: body over 1600 characters
	codeTwilioInvalidTo      = 21211  // Twilio: invalid To number
	codeTwilioUnreachable    = 30003  // Twilio: unreachable destination handset
	codeTwilioTooMany        = 20429  // Twilio: too many requests
	codeTwilioContentSid     = 21654  // Twilio: ContentVariables without ContentSid
	codeTwilioNoChannel      = 63007  // Twilio: no WhatsApp channel for the From address
	codeTwilioWAWindow       = 63016  // Twilio WhatsApp: outside the 24h window
	codeTwilioWARateLimit    = 63018  // Twilio WhatsApp: rate limit exceeded for channel
	codeTwilioWARecipient    = 63024  // Twilio WhatsApp: invalid message recipient
	maxTwilioBodyLen         = 1600   // Twilio's limit on Body, in characters
	maxOpaqueCallbackDataLen = 512    // Meta's limit on biz_opaque_callback_data
)

// recipients returns the outcome table, default first.
func recipients() []recipient {
	waDefault := rule{steps: []step{{status: "sent"}, {status: "delivered"}, {status: "read"}}}
	waUndeliverable := rule{steps: []step{{status: "failed", code: codeWAUndeliverable}}}
	smsDelivered := rule{steps: []step{{status: "sent"}, {status: "delivered"}}}
	return []recipient{
		{number: DefaultRecipient, name: "DefaultRecipient", whatsapp: waDefault, sms: smsDelivered},
		{number: WhatsAppUndeliverable, name: "WhatsAppUndeliverable", whatsapp: waUndeliverable, sms: smsDelivered},
		{number: WhatsAppSilent, name: "WhatsAppSilent", whatsapp: rule{}, sms: smsDelivered},
		{number: WhatsAppWindowClosed, name: "WhatsAppWindowClosed", whatsapp: rule{refuse: codeWAReengagement}, sms: smsDelivered},
		{number: Unreachable, name: "Unreachable", whatsapp: waUndeliverable,
			sms: rule{steps: []step{{status: "sent"}, {status: "undelivered", code: codeTwilioUnreachable}}}},
		{number: WhatsAppRateLimited, name: "WhatsAppRateLimited",
			whatsapp: rule{refuse: codeWARateLimit, firstOnly: true, steps: waDefault.steps}, sms: smsDelivered},
		{number: SMSInvalid, name: "SMSInvalid", whatsapp: waUndeliverable, sms: rule{refuse: codeTwilioInvalidTo}},
		{number: WhatsAppDeliveredLate, name: "WhatsAppDeliveredLate",
			whatsapp: rule{steps: []step{{status: "sent"}, {status: "delivered", late: true}}}, sms: smsDelivered},
		{number: SMSRateLimited, name: "SMSRateLimited", whatsapp: waDefault,
			sms: rule{refuse: codeTwilioTooMany, status: http.StatusTooManyRequests, firstOnly: true, steps: smsDelivered.steps}},
		{number: NoAnswer, name: "NoAnswer", whatsapp: rule{hang: true}, sms: rule{hang: true}},
	}
}

// lookup returns the recipient whose number has the digits d, or the
// default recipient.
func lookup(d string) recipient {
	all := recipients()
	for _, r := range all[1:] {
		if digits(r.number) == d {
			return r
		}
	}
	return all[0]
}

// digits returns the decimal digits of a phone number in order, dropping
// '+', spaces, dashes, parentheses and any prefix such as "whatsapp:". It is
// the form magic recipients are compared in, and the form of a WhatsApp ID.
func digits(phone string) string {
	var b strings.Builder
	for _, c := range phone {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
