// Package whatsapp sends messages through the WhatsApp Business Platform
// Cloud API (Meta's Graph API) and reads the webhooks that report their
// delivery status.
//
// Meta ships no Go SDK; the client speaks the documented JSON over net/http.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// Provider is the provider name in send results, status updates and errors.
const Provider = "whatsapp"

// maxCallbackData is Meta's limit on biz_opaque_callback_data, in characters.
const maxCallbackData = 512

// maxResponseBody bounds how much of a Graph API response is read.
const maxResponseBody = 1 << 20

// defaultTimeout is the timeout of the HTTP client used when Config has none.
const defaultTimeout = 15 * time.Second

// Config configures a Client.
type Config struct {
	// APIURL is the Graph API base URL including the version, such as
	// https://graph.facebook.com/v23.0. A trailing slash is ignored.
	APIURL string
	// PhoneNumberID is the business phone number's ID (not the number).
	PhoneNumberID string
	// AccessToken is a system-user or business access token.
	AccessToken string
	// HTTPClient sends the requests. If nil, a client with a 15s timeout
	// is used.
	HTTPClient *http.Client
	// Templates, if set, is checked before every template send: a
	// template that is missing, not approved, lacks the language or gets
	// the wrong parameters fails at once with a permanent SendError,
	// without a call to the Cloud API. Nil skips the check.
	Templates TemplateRegistry
}

// Client sends messages through the Cloud API. It is safe for concurrent use.
type Client struct {
	endpoint   string // {APIURL}/{PhoneNumberID}/messages
	token      string
	httpClient *http.Client
	templates  TemplateRegistry
	now        func() time.Time
}

// NewClient returns a Client for cfg. Its errors name the missing or invalid
// setting by its environment variable: WHATSAPP_API_URL,
// WHATSAPP_PHONE_NUMBER_ID or WHATSAPP_ACCESS_TOKEN.
func NewClient(cfg Config) (*Client, error) {
	switch {
	case cfg.APIURL == "":
		return nil, errors.New("whatsapp: WHATSAPP_API_URL is not set")
	case cfg.PhoneNumberID == "":
		return nil, errors.New("whatsapp: WHATSAPP_PHONE_NUMBER_ID is not set")
	case cfg.AccessToken == "":
		return nil, errors.New("whatsapp: WHATSAPP_ACCESS_TOKEN is not set")
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("whatsapp: WHATSAPP_API_URL %q is not an absolute http(s) URL", cfg.APIURL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	return &Client{
		endpoint:   strings.TrimRight(cfg.APIURL, "/") + "/" + url.PathEscape(cfg.PhoneNumberID) + "/messages",
		token:      cfg.AccessToken,
		httpClient: hc,
		templates:  cfg.Templates,
		now:        time.Now,
	}, nil
}

// Send sends msg to one WhatsApp user: a template, a text (optionally in
// reply to ReplyTo), media, or an interactive message with reply buttons or
// a list. The recipient is normalised to E.164 first, and a template is
// checked against Config.Templates; either failing is a permanent error
// before any call. The message carries msg.Correlation as
// biz_opaque_callback_data, so that status webhooks lead back to the
// journey.
//
// A nil error means the Cloud API accepted the message, not that it was
// delivered; delivery is reported by status webhooks. Errors are
// *channels.SendError values, wrapped with the message they concern; a
// refusal by the API carries an *APIError.
func (c *Client) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	what := "text message"
	switch {
	case msg.Template != nil:
		what = fmt.Sprintf("template %q", msg.Template.Name)
	case msg.Media != nil:
		what = msg.Media.Kind + " message"
	case msg.Interactive != nil:
		what = "interactive message"
	}
	res, err := c.send(ctx, msg)
	if err != nil {
		return channels.SendResult{}, fmt.Errorf("send whatsapp %s: %w", what, err)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	to, err := NormalizeRecipient(msg.To)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_recipient", err.Error(), false, false, err)
	}
	req, err := buildRequest(msg, to)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, false, err)
	}
	if msg.Template != nil && c.templates != nil {
		if err := CheckTemplate(ctx, c.templates, msg.Template); err != nil {
			var se *channels.SendError
			if errors.As(err, &se) {
				return channels.SendResult{}, se
			}
			// The registry itself failed: let the send be retried.
			return channels.SendResult{}, sendError("template_registry", err.Error(), true, false, err)
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, false, err)
	}
	var tr sendhttp.Tracker
	hreq, err := http.NewRequestWithContext(tr.Trace(ctx), http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return channels.SendResult{}, sendError("invalid_request", err.Error(), false, true, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+c.token)

	resp, err := c.httpClient.Do(hreq)
	if err != nil {
		if tr.Written() {
			// Meta may have accepted the message: retrying could send it
			// twice. Its status webhooks carry the correlation.
			return channels.SendResult{}, unknownOutcome(err)
		}
		// The request never reached the API: safe to retry.
		return channels.SendResult{}, sendError("network", err.Error(), true, false, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return channels.SendResult{}, unknownOutcome(fmt.Errorf("reading response: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := responseError(resp.StatusCode, data)
		if !se.Permanent {
			se.RetryAfter = retryAfter(se, resp.Header, c.now())
		}
		return channels.SendResult{}, se
	}

	var ok sendResponse
	if err := json.Unmarshal(data, &ok); err != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		// The API answered success without a message ID. Retrying could
		// send twice, and without an ID no status can be matched: report
		// it as a configuration problem (e.g. an API URL that points at
		// something other than the Graph API).
		reason := fmt.Sprintf("HTTP %d response without a message id", resp.StatusCode)
		if err != nil {
			reason = fmt.Sprintf("HTTP %d response is not the documented JSON: %v", resp.StatusCode, err)
		}
		return channels.SendResult{}, sendError("no_message_id", reason, false, true, errors.New(reason))
	}
	return channels.SendResult{Provider: Provider, MessageID: ok.Messages[0].ID, Status: channels.StatusAccepted}, nil
}

// unknownOutcome is a send that was written but got no answer.
func unknownOutcome(err error) *channels.SendError {
	se := sendError("unknown_outcome", "no answer after the request was sent: "+err.Error(), true, false, err)
	se.Unknown = true
	return se
}

// sendError builds a SendError for this channel. Config errors are permanent.
func sendError(code, reason string, retryable, config bool, err error) *channels.SendError {
	return sendhttp.SendError(channels.WhatsApp, Provider, code, reason, retryable, config, err)
}

// sendResponse is the documented success response.
type sendResponse struct {
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}
