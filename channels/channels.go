// Package channels holds what every messaging channel shares: the message a
// journey asks to send, the delivery statuses that come back, the Sender
// interface that channel implementations satisfy, the typed errors that
// tell a journey whether to retry a send or fall back to the next channel,
// and the Driver interface and Registry through which the rest of
// Switchback knows a channel without knowing which one it is.
//
// # Where things go
//
// A channel is one package under channels/ whose Driver says everything
// the rest of Switchback asks of it: its name, the kind of contact address
// it sends to, its default rate, the statuses an attempt may await, the
// attempt fields it accepts (Parse: their checks, the templated texts in
// them, and how they render into a Message), which provider errors make
// a contact unreachable, and, through optional interfaces, how it builds
// its sender from its own settings (Configurable), its provider's
// lookalike for the sandbox (Sandboxed) and how its provider answers in a
// simulation (Simulated). internal/app.Channels registers each driver in
// one line; channeltest is the conformance suite every driver passes.
//
// The provider axis: channels/whatsapp is WhatsApp over Meta's Cloud API,
// channels/email is email over SendGrid, channels/sms is SMS, whose
// provider is channels/twilio. A provider that carries more than one
// channel has its own package: channels/twilio sends SMS and, with
// WHATSAPP_PROVIDER=twilio, WhatsApp (twilio.WhatsAppClient).
//
// Code outside channels/ asks the Registry rather than switching on a
// channel's name: journeys (validation, rendering), the workers' task
// queues and rates, the event log's reachability, simulate, the sandbox
// mount and the commands' channel lists do so.
package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Channel names a way of reaching a customer.
type Channel string

// The channels Switchback knows.
const (
	WhatsApp Channel = "whatsapp"
	SMS      Channel = "sms"
	Email    Channel = "email"
)

// Valid reports whether c is a well-formed channel name: a lower-case
// letter, then lower-case letters, digits and _. It names a task queue, a
// metric label value and a store column value. Whether a process knows
// the channel is its Registry's to say.
func (c Channel) Valid() bool {
	if c == "" || c[0] < 'a' || c[0] > 'z' {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// Correlation travels with a send to the provider and back in its status
// callbacks, so that a webhook can find the journey that sent the message.
type Correlation struct {
	WorkflowID string `json:"workflow_id"`
	Attempt    int    `json:"attempt"`
}

// correlationPrefix versions the string form of a Correlation.
const correlationPrefix = "sb1:"

// String encodes c as "sb1:<attempt>:<workflow id>", the form carried in
// WhatsApp's biz_opaque_callback_data (at most 512 characters).
func (c Correlation) String() string {
	return correlationPrefix + strconv.Itoa(c.Attempt) + ":" + c.WorkflowID
}

// ParseCorrelation decodes the form written by Correlation.String. It reports
// false for anything else, such as data another system put there.
func ParseCorrelation(s string) (Correlation, bool) {
	rest, ok := strings.CutPrefix(s, correlationPrefix)
	if !ok {
		return Correlation{}, false
	}
	n, id, ok := strings.Cut(rest, ":")
	if !ok || id == "" {
		return Correlation{}, false
	}
	attempt, err := strconv.Atoi(n)
	if err != nil || attempt < 1 {
		return Correlation{}, false
	}
	return Correlation{WorkflowID: id, Attempt: attempt}, true
}

// Template is a provider-approved message template and the values of its
// parameters, already rendered.
type Template struct {
	Name      string   `json:"name"`
	Language  string   `json:"language,omitempty"`
	Body      []string `json:"body,omitempty"`
	ButtonURL []string `json:"button_url,omitempty"`
	// Header is the parameter of a header that has one: text, or an
	// image, document or video.
	Header *Header `json:"header,omitempty"`
	// Buttons are the parameters of buttons, each with its index. URL
	// buttons given by ButtonURL take indexes 0, 1, ... in order.
	Buttons []TemplateButton `json:"buttons,omitempty"`
}

// Header is the header of a template or interactive message: Text, or Media.
type Header struct {
	Text  string `json:"text,omitempty"`
	Media *Media `json:"media,omitempty"`
}

// Template button kinds.
const (
	ButtonQuickReply = "quick_reply" // Payload comes back when the button is tapped
	ButtonURL        = "url"         // Text is appended to the button's URL
)

// TemplateButton is the parameter of one template button.
type TemplateButton struct {
	Index   int    `json:"index"`
	Kind    string `json:"kind"` // ButtonQuickReply or ButtonURL
	Payload string `json:"payload,omitempty"`
	Text    string `json:"text,omitempty"`
}

// Media kinds.
const (
	MediaImage    = "image"
	MediaDocument = "document"
	MediaAudio    = "audio"
	MediaVideo    = "video"
)

// Media is an image, document, audio or video, by uploaded media ID or by
// a public link (exactly one of the two).
type Media struct {
	Kind     string `json:"kind"`
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`  // image, document, video
	Filename string `json:"filename,omitempty"` // document
}

// Interactive kinds.
const (
	InteractiveButtons = "button" // up to three reply buttons
	InteractiveList    = "list"   // a menu of rows in sections
)

// Interactive is a message with reply buttons or a list.
type Interactive struct {
	Kind    string        `json:"kind"` // InteractiveButtons or InteractiveList
	Header  *Header       `json:"header,omitempty"`
	Body    string        `json:"body"`
	Footer  string        `json:"footer,omitempty"`
	Buttons []ReplyButton `json:"buttons,omitempty"`
	// ListButton labels the button that opens a list; Sections are its rows.
	ListButton string        `json:"list_button,omitempty"`
	Sections   []ListSection `json:"sections,omitempty"`
}

// ReplyButton is one reply button: its ID comes back when tapped.
type ReplyButton struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListSection is a titled group of list rows.
type ListSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []ListRow `json:"rows"`
}

// ListRow is one choice of a list: its ID comes back when chosen.
type ListRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// EmailContent is the content of an email: a SendGrid dynamic template and its
// data, or a subject with a text and/or HTML body.
type EmailContent struct {
	TemplateID string            `json:"template_id,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	Text       string            `json:"text,omitempty"`
	HTML       string            `json:"html,omitempty"`
}

// Message is one rendered message to one recipient on one channel. On
// WhatsApp exactly one of Template, Text, Media and Interactive is set; on
// SMS, Text; on email, Email.
type Message struct {
	Channel Channel `json:"channel"`
	// To is an E.164 phone number (+15551234567) for WhatsApp and SMS, and
	// an email address for email.
	To       string        `json:"to"`
	Template *Template     `json:"template,omitempty"`
	Text     string        `json:"text,omitempty"`
	Email    *EmailContent `json:"email,omitempty"`
	// Media and Interactive are WhatsApp session messages.
	Media       *Media       `json:"media,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	// ReplyTo is the provider message ID a WhatsApp session message
	// replies to (shown quoted), or "".
	ReplyTo string `json:"reply_to,omitempty"`
	// Devices are the device tokens of a channel whose address is
	// AddressDevice (To is then empty).
	Devices []string `json:"devices,omitempty"`
	// Payload is the content of a channel other than WhatsApp, SMS and
	// email, in the form its driver renders and its sender reads.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Journey and Step name what sent the message, for provider-side
	// reporting (e.g. SendGrid categories).
	Journey     string      `json:"journey,omitempty"`
	Step        string      `json:"step,omitempty"`
	Correlation Correlation `json:"correlation"`
}

// SendResult is what a provider answered when it accepted a message.
type SendResult struct {
	Provider  string `json:"provider"`
	MessageID string `json:"message_id"`
	Status    Status `json:"status"`
	// Retired are device tokens (AddressDevice) the provider said are no
	// longer valid, though the message reached another device: the send
	// activity removes them from the contact.
	Retired []string `json:"retired,omitempty"`
}

// Sender sends messages on one channel.
type Sender interface {
	Send(ctx context.Context, msg Message) (SendResult, error)
}

// Status is a message's delivery state as a provider reports it, in
// Switchback's words.
type Status string

// Delivery statuses, from least to most advanced. Failed is terminal.
const (
	StatusAccepted  Status = "accepted"
	StatusSent      Status = "sent"
	StatusDelivered Status = "delivered"
	StatusRead      Status = "read"
	StatusFailed    Status = "failed"
)

// rank orders the non-failed statuses; unknown statuses rank 0.
func (s Status) rank() int {
	switch s {
	case StatusAccepted:
		return 1
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	}
	return 0
}

// Valid reports whether s is a status Switchback knows.
func (s Status) Valid() bool { return s == StatusFailed || s.rank() > 0 }

// Reached reports whether a message in status s has got at least as far as
// want: read implies delivered, delivered implies sent. A failed message
// reaches nothing.
func (s Status) Reached(want Status) bool {
	if s == StatusFailed {
		return false
	}
	return s.rank() >= want.rank() && want.rank() > 0
}

// Advances reports whether moving from status s to next is progress. Statuses
// arrive duplicated and out of order; a message never moves backwards, and
// failed is final. A failure reported after delivery is not taken either:
// the customer already has the message.
func (s Status) Advances(next Status) bool {
	switch {
	case s == StatusFailed:
		return false
	case next == StatusFailed:
		return s.rank() < StatusDelivered.rank()
	default:
		return next.rank() > s.rank()
	}
}

// StatusUpdate is one delivery status for one message, as a webhook reports it.
type StatusUpdate struct {
	Provider  string `json:"provider"`
	MessageID string `json:"message_id"`
	Status    Status `json:"status"`
	// Attempt is the journey's attempt number if the callback carried it, else 0.
	Attempt int `json:"attempt,omitempty"`
	// ErrorCode and ErrorReason explain a failed status.
	ErrorCode   string `json:"error_code,omitempty"`
	ErrorReason string `json:"error_reason,omitempty"`
	// Timestamp is the provider's time of the status, in Unix seconds, or 0.
	Timestamp int64 `json:"timestamp,omitempty"`
	// PricingCategory is the provider's billing category when it says
	// (WhatsApp: authentication, marketing, utility, service, ...).
	PricingCategory string `json:"pricing_category,omitempty"`
}

// SendError is a send that a provider refused or that could not reach it.
// Permanent errors will not succeed if retried and move a journey to its
// next attempt at once; the others are retried with backoff.
type SendError struct {
	Channel   Channel
	Provider  string
	Code      string // the provider's error code, e.g. "131026", "21211", "http_503"
	Reason    string // what went wrong, in the provider's words
	Permanent bool
	// Config marks errors that mean Switchback is misconfigured (bad token,
	// missing permission): permanent, and worth an operator's attention.
	Config bool
	// RetryAfter is how long the provider asked to wait before the next
	// try (an HTTP Retry-After header, or a rate-limit reset), or 0.
	RetryAfter time.Duration
	// Unknown marks a send whose outcome is unknown: the request was
	// written but no answer came (a timeout, a dropped connection). The
	// provider may have accepted it, so retrying could send it twice; its
	// status callbacks, which carry the correlation, tell what happened.
	Unknown bool
	// Retired are device tokens (AddressDevice) the provider said are no
	// longer valid: the send activity removes them from the contact.
	Retired []string
	Err     error
}

func (e *SendError) Error() string {
	kind := "retryable"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Config {
		kind = "configuration"
	}
	if e.Unknown {
		kind = "unknown-outcome"
	}
	return fmt.Sprintf("%s send via %s: %s error %s: %s", e.Channel, e.Provider, kind, e.Code, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is, or wraps, a permanent SendError.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// IsUnknownOutcome reports whether err is, or wraps, a SendError whose
// outcome is unknown (see SendError.Unknown).
func IsUnknownOutcome(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Unknown
}

// RetryDelay returns the wait a provider asked for before retrying err, or
// 0 when err is not a SendError or the provider asked for nothing.
func RetryDelay(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
