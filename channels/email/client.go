// Package email sends email through SendGrid's v3 Mail Send API with
// sendgrid-go, and reads SendGrid's signed Event Webhook.
package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// Provider is the provider name in send results, status updates and errors.
const Provider = "sendgrid"

// DefaultAPIURL is SendGrid's API host.
const DefaultAPIURL = "https://api.sendgrid.com"

// SendPath is the Mail Send endpoint, below the API URL.
const SendPath = "/v3/mail/send"

// Custom argument keys that carry a send's correlation. SendGrid copies
// custom_args into every event as top-level keys.
const (
	ArgWorkflowID = "sb_wf"
	ArgAttempt    = "sb_attempt"
)

// MessageIDHeader is the response header that holds the message ID.
const MessageIDHeader = "X-Message-Id"

// defaultTimeout is the timeout of the HTTP client used when Config has none.
const defaultTimeout = 15 * time.Second

// maxCategories is SendGrid's limit on categories per message.
const maxCategories = 10

// Config configures a Client.
type Config struct {
	// APIURL is SendGrid's API host (SENDGRID_API_URL). Empty means
	// DefaultAPIURL; tests and the sandbox point it elsewhere.
	APIURL string
	// APIKey is a SendGrid API key with Mail Send access (SENDGRID_API_KEY).
	APIKey string
	// From is the sender, an address or "Name <address>" (SENDGRID_FROM).
	// It must be a verified sender or on an authenticated domain.
	From string
	// ReplyTo is the optional reply-to address (SENDGRID_REPLY_TO).
	ReplyTo string
	// HTTPClient sends the requests. If nil, a client with a 15s timeout
	// is used (never sendgrid-go's global client, which has none).
	HTTPClient *http.Client
}

// Client sends email through SendGrid. It is safe for concurrent use.
type Client struct {
	apiURL  string
	apiKey  string
	from    *sgmail.Email
	replyTo *sgmail.Email
	rest    *rest.Client
	now     func() time.Time
}

// NewClient returns a Client for cfg. Its errors name the missing or invalid
// setting by its environment variable.
func NewClient(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("email: SENDGRID_API_KEY is not set")
	}
	if cfg.From == "" {
		return nil, errors.New("email: SENDGRID_FROM is not set")
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: SENDGRID_FROM: %w", err)
	}
	c := &Client{apiURL: DefaultAPIURL, apiKey: cfg.APIKey, from: from, now: time.Now}
	if cfg.ReplyTo != "" {
		if c.replyTo, err = parseAddress(cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("email: SENDGRID_REPLY_TO: %w", err)
		}
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("email: SENDGRID_API_URL %q is not an absolute http(s) URL", cfg.APIURL)
		}
		c.apiURL = strings.TrimRight(cfg.APIURL, "/")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	c.rest = &rest.Client{HTTPClient: hc}
	return c, nil
}

// parseAddress parses "addr" or "Name <addr>".
func parseAddress(s string) (*sgmail.Email, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address: %w", s, err)
	}
	return sgmail.NewEmail(a.Name, a.Address), nil
}

// Send sends msg.Email to msg.To: a dynamic template with its data, or a
// subject with a text and/or HTML body. The correlation travels in
// custom_args (sb_wf, sb_attempt), the journey and step in categories.
//
// A nil error means SendGrid accepted the message (HTTP 202); the message
// ID is the X-Message-Id header, which prefixes every event's
// sg_message_id. Errors are *channels.SendError values, wrapped.
func (c *Client) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	res, err := c.send(ctx, msg)
	if err != nil {
		what := "email"
		if msg.Email != nil && msg.Email.TemplateID != "" {
			what = fmt.Sprintf("email template %q", msg.Email.TemplateID)
		}
		return channels.SendResult{}, fmt.Errorf("send %s: %w", what, err)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	m, err := c.build(msg)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, false, err)
	}
	req := sendgrid.GetRequest(c.apiKey, SendPath, c.apiURL)
	req.Method = rest.Post
	req.Body = sgmail.GetRequestBody(m)

	var tr sendhttp.Tracker
	resp, err := c.rest.SendWithContext(tr.Trace(ctx), req)
	if err != nil {
		if tr.Written() {
			// SendGrid may have the message: retrying could send it
			// twice. Its events carry the correlation.
			se := sendError("unknown_outcome", "no answer after the request was sent: "+err.Error(), true, false, err)
			se.Unknown = true
			return channels.SendResult{}, se
		}
		return channels.SendResult{}, sendError("network", err.Error(), true, false, err)
	}
	header := http.Header(resp.Headers)
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		id := header.Get(MessageIDHeader)
		if id == "" {
			reason := fmt.Sprintf("HTTP %d response without an %s header", resp.StatusCode, MessageIDHeader)
			return channels.SendResult{}, sendError("no_message_id", reason, false, true, errors.New(reason))
		}
		return channels.SendResult{Provider: Provider, MessageID: id, Status: channels.StatusAccepted}, nil
	}
	return channels.SendResult{}, c.responseError(resp.StatusCode, header, []byte(resp.Body))
}

// build turns msg into a SendGrid mail.
func (c *Client) build(msg channels.Message) (*sgmail.SGMailV3, error) {
	e := msg.Email
	if e == nil {
		return nil, errors.New("message has no email content")
	}
	to, err := mail.ParseAddress(strings.TrimSpace(msg.To))
	if err != nil {
		return nil, fmt.Errorf("recipient %q is not an email address", msg.To)
	}
	m := sgmail.NewV3Mail()
	m.SetFrom(c.from)
	if c.replyTo != nil {
		m.SetReplyTo(c.replyTo)
	}
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(to.Name, to.Address))
	if msg.Correlation.WorkflowID != "" {
		p.SetCustomArg(ArgWorkflowID, msg.Correlation.WorkflowID)
		p.SetCustomArg(ArgAttempt, strconv.Itoa(msg.Correlation.Attempt))
	}
	switch {
	case e.TemplateID != "":
		if e.Subject != "" || e.Text != "" || e.HTML != "" {
			return nil, errors.New("email has both a template id and a subject or body")
		}
		m.SetTemplateID(e.TemplateID)
		for k, v := range e.Data {
			p.SetDynamicTemplateData(k, v)
		}
	case e.Subject == "":
		return nil, errors.New("email has neither a template id nor a subject")
	case e.Text == "" && e.HTML == "":
		return nil, errors.New("email has a subject but no text or HTML body")
	default:
		m.Subject = e.Subject
		// SendGrid wants text/plain before text/html.
		if e.Text != "" {
			m.AddContent(sgmail.NewContent("text/plain", e.Text))
		}
		if e.HTML != "" {
			m.AddContent(sgmail.NewContent("text/html", e.HTML))
		}
	}
	m.AddPersonalizations(p)
	if cats := categories(msg.Journey, msg.Step); len(cats) > 0 {
		m.AddCategories(cats...)
	}
	return m, nil
}

// categories returns the SendGrid categories of a send: the journey, and
// the journey and step as "journey/step".
func categories(journey, step string) []string {
	var cats []string
	if journey != "" {
		cats = append(cats, journey)
		if step != "" {
			cats = append(cats, journey+"/"+step)
		}
	}
	if len(cats) > maxCategories {
		cats = cats[:maxCategories]
	}
	return cats
}

// apiErrors is SendGrid's error body.
type apiErrors struct {
	Errors []struct {
		Field   *string `json:"field"`
		Message string  `json:"message"`
		Help    any     `json:"help"`
	} `json:"errors"`
}

// APIError is an error response from SendGrid: its HTTP status and the
// messages of its {"errors": [...]} body.
type APIError struct {
	HTTPStatus int
	Messages   []string // "field: message", or the message alone
}

// Error describes e.
func (e *APIError) Error() string {
	return fmt.Sprintf("sendgrid api error (HTTP %d): %s", e.HTTPStatus, strings.Join(e.Messages, "; "))
}

// Class classifies an HTTP status from SendGrid: 429 and 5xx are
// retryable; 401 and 403 mean the API key is wrong or lacks Mail Send
// access; any other 4xx will fail again.
func Class(status int) (retryable, config bool) {
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return true, false
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return false, true
	}
	return false, false
}

// responseError turns a non-2xx answer into a SendError.
func (c *Client) responseError(status int, header http.Header, body []byte) *channels.SendError {
	apiErr := &APIError{HTTPStatus: status}
	var ae apiErrors
	if json.Unmarshal(body, &ae) == nil {
		for _, e := range ae.Errors {
			m := e.Message
			if e.Field != nil && *e.Field != "" {
				m = *e.Field + ": " + m
			}
			apiErr.Messages = append(apiErr.Messages, m)
		}
	}
	if len(apiErr.Messages) == 0 {
		m := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		if s := sendhttp.Snippet(body); s != "" {
			m += ": " + s
		}
		apiErr.Messages = []string{m}
	}
	retryable, config := Class(status)
	se := sendError("http_"+strconv.Itoa(status), strings.Join(apiErr.Messages, "; "), retryable, config, apiErr)
	if retryable {
		se.RetryAfter = sendhttp.RetryAfter(header, c.now())
	}
	return se
}

// sendError builds a SendError for this channel. Config errors are permanent.
func sendError(code, reason string, retryable, config bool, err error) *channels.SendError {
	return sendhttp.SendError(channels.Email, Provider, code, reason, retryable, config, err)
}
