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
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
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
}

// Client sends messages through the Cloud API. It is safe for concurrent use.
type Client struct {
	endpoint   string // {APIURL}/{PhoneNumberID}/messages
	token      string
	httpClient *http.Client
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
	}, nil
}

// Send sends msg, a template or a text message, to one WhatsApp user. The
// message carries msg.Correlation as biz_opaque_callback_data, so that status
// webhooks lead back to the journey.
//
// A nil error means the Cloud API accepted the message, not that it was
// delivered; delivery is reported by status webhooks. Errors are
// *channels.SendError values, wrapped with the message they concern; a
// refusal by the API carries an *APIError.
func (c *Client) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	what := "text message"
	if msg.Template != nil {
		what = fmt.Sprintf("template %q", msg.Template.Name)
	}
	res, err := c.send(ctx, msg)
	if err != nil {
		return channels.SendResult{}, fmt.Errorf("send whatsapp %s: %w", what, err)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	req, err := buildRequest(msg)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, false, err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, false, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return channels.SendResult{}, sendError("invalid_request", err.Error(), false, true, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+c.token)

	resp, err := c.httpClient.Do(hreq)
	if err != nil {
		// The request was never answered: nothing was accepted, so it is
		// safe to retry.
		return channels.SendResult{}, sendError("network", err.Error(), true, false, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return channels.SendResult{}, sendError("network", "reading response: "+err.Error(), true, false, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return channels.SendResult{}, responseError(resp.StatusCode, data)
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

// sendError builds a SendError for this channel. Config errors are permanent.
func sendError(code, reason string, retryable, config bool, err error) *channels.SendError {
	return &channels.SendError{
		Channel:   channels.WhatsApp,
		Provider:  Provider,
		Code:      code,
		Reason:    reason,
		Permanent: !retryable || config,
		Config:    config,
		Err:       err,
	}
}

// sendRequest is the body of POST /{phone-number-id}/messages.
type sendRequest struct {
	MessagingProduct      string          `json:"messaging_product"`
	RecipientType         string          `json:"recipient_type"`
	To                    string          `json:"to"`
	Type                  string          `json:"type"`
	Text                  *textObject     `json:"text,omitempty"`
	Template              *templateObject `json:"template,omitempty"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data,omitempty"`
}

type textObject struct {
	Body string `json:"body"`
}

type templateObject struct {
	Name       string         `json:"name"`
	Language   languageObject `json:"language"`
	Components []component    `json:"components,omitempty"`
}

type languageObject struct {
	Code string `json:"code"`
}

type component struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// sendResponse is the documented success response.
type sendResponse struct {
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}

// buildRequest turns msg into the Cloud API request body.
func buildRequest(msg channels.Message) (*sendRequest, error) {
	to := strings.TrimSpace(msg.To)
	if to == "" {
		return nil, errors.New("no recipient")
	}
	// Without a leading "+", Meta prepends the business number's country
	// code, which would reach someone else.
	if !strings.HasPrefix(to, "+") {
		to = "+" + to
	}
	cb := msg.Correlation.String()
	if n := len([]rune(cb)); n > maxCallbackData {
		return nil, fmt.Errorf("correlation is %d characters, more than the %d biz_opaque_callback_data allows", n, maxCallbackData)
	}
	req := &sendRequest{
		MessagingProduct:      "whatsapp",
		RecipientType:         "individual",
		To:                    to,
		BizOpaqueCallbackData: cb,
	}
	switch {
	case msg.Template != nil && msg.Text != "":
		return nil, errors.New("message has both a template and text")
	case msg.Template != nil:
		t := msg.Template
		if t.Name == "" {
			return nil, errors.New("template has no name")
		}
		if t.Language == "" {
			return nil, fmt.Errorf("template %q has no language", t.Name)
		}
		req.Type = "template"
		req.Template = &templateObject{Name: t.Name, Language: languageObject{Code: t.Language}}
		if len(t.Body) > 0 {
			req.Template.Components = append(req.Template.Components, component{Type: "body", Parameters: textParameters(t.Body)})
		}
		for i, v := range t.ButtonURL {
			req.Template.Components = append(req.Template.Components, component{
				Type:       "button",
				SubType:    "url",
				Index:      strconv.Itoa(i),
				Parameters: textParameters([]string{v}),
			})
		}
	case msg.Text != "":
		req.Type = "text"
		req.Text = &textObject{Body: msg.Text}
	default:
		return nil, errors.New("message has neither a template nor text")
	}
	return req, nil
}

func textParameters(values []string) []parameter {
	ps := make([]parameter, len(values))
	for i, v := range values {
		ps[i] = parameter{Type: "text", Text: v}
	}
	return ps
}
