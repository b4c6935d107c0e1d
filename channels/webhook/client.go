package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
	"github.com/switchbackhq/switchback/internal/stdwebhook"
)

// DefaultTimeout bounds each request.
const DefaultTimeout = 10 * time.Second

// UserAgent is the User-Agent of a webhook whose headers set none.
const UserAgent = "Switchback-Webhook"

// Options configures a Client.
type Options struct {
	// Secret signs each request: whsec_ and the base64 of a key of at
	// least 24 bytes.
	Secret string
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// Sandbox, when set, is the base URL of a sandbox Receiver: every
	// webhook goes there instead, with its URL's path appended.
	Sandbox string
}

// Client sends webhooks (channels.Sender). It is safe for concurrent use.
type Client struct {
	signer  *stdwebhook.Signer
	http    *http.Client
	sandbox string
	now     func() time.Time
}

// NewClient returns a Client configured by o.
func NewClient(o Options) (*Client, error) {
	signer, err := stdwebhook.NewSigner(o.Secret)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	hc := &http.Client{
		Timeout: o.Timeout,
		// A redirect is not followed: the signed body would go to a URL
		// the journey does not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{signer: signer, http: hc, sandbox: o.Sandbox, now: time.Now}, nil
}

// MessageID returns the webhook-id of the message of correlation c: the
// same on every retry of one attempt, so that the receiver can drop
// duplicates, and different for each attempt of each journey. Workflow ids
// are never reused (journeys start with REJECT_DUPLICATE), so it is
// unique; it is hashed so that the id carries nothing of the journey.
func MessageID(c channels.Correlation) string {
	sum := sha256.Sum256([]byte("switchback webhook\x00" + c.String()))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// Send POSTs msg's Payload, signed, and reports it delivered on a 2xx
// answer, with its webhook-id as the message id. Any other outcome is a
// *channels.SendError: a 3xx (not followed) or a 4xx other than 408 and
// 429 is permanent (401 and 403 also mark a configuration problem); 408,
// 429, 5xx, a network error and a request that got no answer are
// retried, after the receiver's Retry-After when it gives one. A retry
// carries the same webhook-id, so a receiver that got the first try drops
// it; hence no outcome is left unknown. Errors name the URL's host only.
func (c *Client) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	var p Payload
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		return channels.SendResult{}, sendError("invalid_message", "the message holds no webhook payload", false, err)
	}
	u, err := checkURL(p.URL)
	if err != nil {
		return channels.SendResult{}, sendError("invalid_message", "url "+err.Error(), false, err)
	}
	if msg.Correlation.WorkflowID == "" {
		err := errors.New("the message has no correlation, so no stable webhook-id")
		return channels.SendResult{}, sendError("invalid_message", err.Error(), false, err)
	}
	target := p.URL
	if c.sandbox != "" {
		target = c.sandbox + "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	}
	id := MessageID(msg.Correlation)
	if err := c.post(ctx, target, u.Host, id, p); err != nil {
		return channels.SendResult{}, err
	}
	return channels.SendResult{Provider: Provider, MessageID: id, Status: channels.StatusDelivered}, nil
}

// post sends one signed request to target; host names it in errors.
func (c *Client) post(ctx context.Context, target, host, id string, p Payload) error {
	var tr sendhttp.Tracker
	req, err := http.NewRequestWithContext(tr.Trace(ctx), http.MethodPost, target, bytes.NewReader(p.Body))
	if err != nil {
		return sendError("invalid_message", "cannot build a request to "+host, false, errors.New("new request"))
	}
	for name, v := range p.Headers {
		req.Header.Set(name, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	if err := c.signer.Sign(req.Header, id, c.now(), p.Body); err != nil {
		return sendError("sign", err.Error(), false, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error quotes the whole URL, query included: keep its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if tr.Written() {
			return sendError("no_answer", "POST to "+host+": no answer after the request was written: "+err.Error(), true, err)
		}
		return sendError("network", "POST to "+host+": "+err.Error(), true, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return c.answerError(resp, host)
}

// answerError classifies the receiver's answer: nil for a 2xx. The
// answer's body is left out: it may echo what was sent.
func (c *Client) answerError(resp *http.Response, host string) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	reason := fmt.Sprintf("POST to %s answered HTTP %d", host, code)
	se := sendError("http_"+strconv.Itoa(code), reason, false, fmt.Errorf("HTTP %d", code))
	switch {
	case code >= 300 && code < 400:
		se.Reason += ": a redirect is not followed; give the url it points to"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		se.Reason += ": does the receiver check signatures with " + SecretSetting + "?"
		se.Config = true
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		se.Permanent = false
		se.RetryAfter = sendhttp.RetryAfter(resp.Header, c.now())
	}
	return se
}

// sendError is a SendError of the webhook channel.
func sendError(code, reason string, retryable bool, err error) *channels.SendError {
	return sendhttp.SendError(Channel, Provider, code, reason, retryable, false, err)
}
