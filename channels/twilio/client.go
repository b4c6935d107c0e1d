// Package twilio is the Twilio provider: it sends SMS (the sms channel)
// and WhatsApp messages (the whatsapp channel, with
// WHATSAPP_PROVIDER=twilio, as Twilio Content) through Twilio's Messages
// API with twilio-go, reads the status callbacks Twilio posts back, and
// checks their X-Twilio-Signature. The channels' own facts (their drivers)
// live in channels/sms and channels/whatsapp.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	tclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// Provider is the provider name in send results, status updates and errors.
const Provider = "twilio"

// DefaultAPIURL is Twilio's REST API, the base URL twilio-go always uses.
const DefaultAPIURL = "https://api.twilio.com"

// defaultTimeout is the timeout of the HTTP client used when Config has none.
const defaultTimeout = 15 * time.Second

// Correlation query parameters appended to the status callback URL.
const (
	QueryWorkflowID = "sb_wf"
	QueryAttempt    = "sb_attempt"
)

// Config configures a Client.
type Config struct {
	// APIURL is the base URL of Twilio's REST API. Empty means
	// DefaultAPIURL; tests and the sandbox point it elsewhere.
	APIURL string
	// AccountSID and AuthToken authenticate with Twilio (an API key SID and
	// secret work as well). twilio-go accepts only letters and digits.
	AccountSID string
	AuthToken  string
	// From is the sender number; MessagingServiceSID a Messaging Service
	// that picks one. At least one is required; with both, From must be in
	// the service's sender pool.
	From                string
	MessagingServiceSID string
	// StatusCallbackURL is the full public URL of Switchback's Twilio
	// status webhook. Each send appends the journey's correlation to it as
	// sb_wf and sb_attempt query parameters. Empty means no status
	// callbacks, unless the Messaging Service has its own.
	StatusCallbackURL string
	// HTTPClient sends the requests. If nil, a client with a 15s timeout
	// that does not follow redirects is used, like twilio-go's default.
	HTTPClient *http.Client
}

// Client sends SMS through Twilio. It is safe for concurrent use.
type Client struct {
	apiURL     string // without a trailing slash
	accountSID string
	authToken  string
	from       string
	serviceSID string
	callback   *url.URL // nil: no status callback
	httpClient *http.Client
}

// NewClient returns a Client for cfg. Its errors name the missing or invalid
// setting by its environment variable: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
// TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID, and TWILIO_API_URL.
func NewClient(cfg Config) (*Client, error) {
	alnum := regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	switch {
	case cfg.AccountSID == "":
		return nil, errors.New("sms: TWILIO_ACCOUNT_SID is not set")
	case !alnum.MatchString(cfg.AccountSID):
		return nil, errors.New("sms: TWILIO_ACCOUNT_SID may contain only letters and digits")
	case cfg.AuthToken == "":
		return nil, errors.New("sms: TWILIO_AUTH_TOKEN is not set")
	case !alnum.MatchString(cfg.AuthToken):
		return nil, errors.New("sms: TWILIO_AUTH_TOKEN may contain only letters and digits")
	case cfg.From == "" && cfg.MessagingServiceSID == "":
		return nil, errors.New("sms: set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !isAbsoluteHTTP(apiURL) {
		return nil, fmt.Errorf("sms: TWILIO_API_URL %q is not an absolute http(s) URL", cfg.APIURL)
	}
	c := &Client{
		apiURL:     strings.TrimRight(apiURL, "/"),
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		from:       cfg.From,
		serviceSID: cfg.MessagingServiceSID,
		httpClient: cfg.HTTPClient,
	}
	if cfg.StatusCallbackURL != "" {
		u, err := url.Parse(cfg.StatusCallbackURL)
		if err != nil || !isAbsoluteHTTP(cfg.StatusCallbackURL) {
			return nil, fmt.Errorf("sms: status callback URL %q is not an absolute http(s) URL", cfg.StatusCallbackURL)
		}
		if q := u.Query(); q.Has(QueryWorkflowID) || q.Has(QueryAttempt) {
			return nil, fmt.Errorf("sms: status callback URL %q already has %s or %s", cfg.StatusCallbackURL, QueryWorkflowID, QueryAttempt)
		}
		c.callback = u
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{
			Timeout: defaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return c, nil
}

func isAbsoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Send sends msg.Text as an SMS to msg.To. SMS carries text only: a message
// with a template and no text is a permanent error.
//
// A nil error means Twilio accepted the message, not that it was delivered;
// delivery is reported by status callbacks. Errors are *channels.SendError
// values, wrapped; a refusal by Twilio carries a *client.TwilioRestError.
//
// twilio-go takes no context; Send checks ctx before sending and ties ctx to
// the HTTP request, so cancelling ctx aborts a send in flight.
func (c *Client) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	return sendChecked(ctx, "sms", msg, c.send)
}

// sendChecked checks ctx, then sends msg with send; what names the send in
// its errors.
func sendChecked(ctx context.Context, what string, msg channels.Message,
	send func(context.Context, channels.Message) (channels.SendResult, error)) (channels.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return channels.SendResult{}, fmt.Errorf("send %s: %w", what, err)
	}
	res, err := send(ctx, msg)
	if err != nil {
		return channels.SendResult{}, fmt.Errorf("send %s: %w", what, err)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	switch {
	case msg.Text == "":
		err := errors.New("sms needs text")
		return channels.SendResult{}, sendError(channels.SMS, "invalid_message", err.Error(), false, false, err)
	case msg.To == "":
		err := errors.New("no recipient")
		return channels.SendResult{}, sendError(channels.SMS, "invalid_message", err.Error(), false, false, err)
	}
	params := &openapi.CreateMessageParams{}
	params.SetTo(msg.To)
	params.SetBody(msg.Text)
	return c.create(ctx, channels.SMS, params, msg.Correlation)
}

// create completes params with the sender and the status callback for
// corr, and creates the message. Errors are SendErrors on channel ch.
func (c *Client) create(ctx context.Context, ch channels.Channel, params *openapi.CreateMessageParams, corr channels.Correlation) (channels.SendResult, error) {
	if c.from != "" {
		params.SetFrom(c.from)
	}
	if c.serviceSID != "" {
		params.SetMessagingServiceSid(c.serviceSID)
	}
	if cb := c.statusCallback(corr); cb != "" {
		params.SetStatusCallback(cb)
	}

	tc := c.twilioClient(ctx)
	// A RequestHandler made here rather than by NewRequestHandler does not
	// read TWILIO_EDGE and TWILIO_REGION: APIURL alone says where to send.
	api := openapi.NewApiService(&tclient.RequestHandler{Client: tc})
	m, err := api.CreateMessage(params)
	if err != nil {
		if tc.transport.status == 0 && tc.transport.tracker.Written() {
			// Twilio may have created the message: retrying could send
			// it twice. Its status callbacks carry the correlation.
			se := sendError(ch, "unknown_outcome", "no answer after the request was sent: "+err.Error(), true, false, err)
			se.Unknown = true
			return channels.SendResult{}, se
		}
		return channels.SendResult{}, classify(ch, err, tc.transport.status)
	}
	if m.Sid == nil || *m.Sid == "" {
		reason := fmt.Sprintf("HTTP %d response without a message sid", tc.transport.status)
		return channels.SendResult{}, sendError(ch, "no_message_id", reason, false, true, errors.New(reason))
	}
	return channels.SendResult{Provider: Provider, MessageID: *m.Sid, Status: channels.StatusAccepted}, nil
}

// statusCallback returns the status callback URL for a send with corr: the
// configured URL with sb_wf and sb_attempt appended to its query.
func (c *Client) statusCallback(corr channels.Correlation) string {
	if c.callback == nil {
		return ""
	}
	u := *c.callback
	if corr.WorkflowID == "" {
		return u.String()
	}
	extra := QueryWorkflowID + "=" + url.QueryEscape(corr.WorkflowID) + "&" + QueryAttempt + "=" + strconv.Itoa(corr.Attempt)
	if u.RawQuery != "" {
		u.RawQuery += "&" + extra
	} else {
		u.RawQuery = extra
	}
	return u.String()
}

// classify turns an error from twilio-go into a SendError on channel ch.
// status is the HTTP status of the response, or 0 if none arrived.
func classify(ch channels.Channel, err error, status int) *channels.SendError {
	var tre *tclient.TwilioRestError
	if errors.As(err, &tre) {
		if tre.Status != 0 {
			status = tre.Status
		}
		code := strconv.Itoa(tre.Code)
		if tre.Code == 0 {
			code = "http_" + strconv.Itoa(status)
		}
		reason := tre.Message
		if reason == "" {
			reason = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		}
		retryable, config := classifyCode(tre.Code, status)
		return sendError(ch, code, reason, retryable, config, err)
	}
	switch {
	case status == 0:
		// The request was never written: nothing was accepted.
		return sendError(ch, "network", err.Error(), true, false, err)
	case status >= 400:
		// An error response that is not Twilio's JSON.
		reason := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		retryable, config := classifyCode(0, status)
		return sendError(ch, "http_"+strconv.Itoa(status), reason, retryable, config, err)
	default:
		// A success (or redirect) response twilio-go could not read.
		reason := fmt.Sprintf("HTTP %d response is not a Twilio message: %v", status, err)
		return sendError(ch, "no_message_id", reason, false, true, err)
	}
}

// classifyCode classifies a Twilio error code and HTTP status: rate limits
// (20429; for WhatsApp 63018 and 63038) and server errors are retryable,
// authentication failures are configuration errors, and everything else
// (21211 invalid number, 21610 unsubscribed recipient, 63016 WhatsApp
// window closed, 63049 marketing message not delivered by Meta, ...) is
// permanent.
func classifyCode(code, status int) (retryable, config bool) {
	switch {
	case code == 20003 || status == http.StatusUnauthorized:
		return false, true
	case code == 20429 || code == codeWARateLimit || code == codeWADailyLimit ||
		status == http.StatusTooManyRequests || status >= 500:
		return true, false
	}
	return false, false
}

// sendError builds a SendError on channel ch. Config errors are permanent.
func sendError(ch channels.Channel, code, reason string, retryable, config bool, err error) *channels.SendError {
	return sendhttp.SendError(ch, Provider, code, reason, retryable, config, err)
}

// twilioClient returns a twilio-go client for one send: it sends to
// c.apiURL, and its requests are cancelled with ctx.
func (c *Client) twilioClient(ctx context.Context) *baseClient {
	t := &callTransport{ctx: ctx, next: c.httpClient.Transport}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	hc := *c.httpClient
	hc.Transport = t
	bc := &baseClient{
		Client:    tclient.Client{Credentials: tclient.NewCredentials(c.accountSID, c.authToken), HTTPClient: &hc},
		apiURL:    c.apiURL,
		transport: t,
	}
	bc.SetAccountSid(c.accountSID)
	return bc
}

// baseClient is a twilio-go client.BaseClient that sends to apiURL instead
// of the https://api.twilio.com twilio-go hard-codes.
type baseClient struct {
	tclient.Client
	apiURL    string
	transport *callTransport
}

// SendRequest rewrites rawURL's base and sends the request.
func (c *baseClient) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(rawURL, DefaultAPIURL); ok {
		rawURL = c.apiURL + rest
	}
	return c.Client.SendRequest(method, rawURL, data, headers, body...)
}

// callTransport ties the requests of one send to its context and records the
// HTTP status of the last response.
type callTransport struct {
	ctx     context.Context
	next    http.RoundTripper
	status  int
	tracker sendhttp.Tracker // whether a request was written
}

// RoundTrip sends req, cancelling it when either its own context (which
// carries the HTTP client's timeout) or the send's context is done.
func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(t.tracker.Trace(req.Context()))
	stop := context.AfterFunc(t.ctx, cancel)
	release := func() { stop(); cancel() }
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		if cerr := t.ctx.Err(); cerr != nil {
			// Report the send's deadline or cancellation, not the
			// cancellation it caused.
			return nil, cerr
		}
		return nil, err
	}
	t.status = resp.StatusCode
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releaseBody releases a request's context when its response body is closed.
type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
