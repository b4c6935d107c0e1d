package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// The settings NewSender reads.
const (
	// EnvProject is the Firebase project id; by default the service
	// account's project_id.
	EnvProject = "FCM_PROJECT_ID"
	// EnvCredentials is the path of a service-account JSON key file. Its
	// token_uri is where access tokens are fetched, as Google's libraries
	// do.
	EnvCredentials = "GOOGLE_APPLICATION_CREDENTIALS"
	// EnvAPIURL replaces DefaultAPIURL (for tests).
	EnvAPIURL = "FCM_API_URL"
)

// DefaultAPIURL is the base URL of FCM's HTTP v1 API.
const DefaultAPIURL = "https://fcm.googleapis.com"

// Scope is the OAuth 2.0 scope of FCM sends.
const Scope = "https://www.googleapis.com/auth/firebase.messaging"

// Sandbox values: the project and the bearer token a sender pointed at
// the lookalike without credentials uses.
const (
	SandboxProject = "sandbox"
	SandboxBearer  = "sandbox-access-token"
)

// timeout bounds one request to FCM or to the token endpoint.
const timeout = 30 * time.Second

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

// Options configure a Sender.
type Options struct {
	// Project is the Firebase project id.
	Project string
	// BaseURL replaces DefaultAPIURL when set.
	BaseURL string
	// Tokens gives the OAuth 2.0 access tokens of the sends (required:
	// Credentials, or a static token for the lookalike).
	Tokens oauth2.TokenSource
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Now is the clock that Retry-After dates are read against; nil is
	// time.Now.
	Now func() time.Time
}

// Sender sends push notifications through FCM HTTP v1: one request per
// device token, one after the other, so that a message never goes twice
// to a device and the result is the same for the same answers. Its
// client does not retry: Temporal's retries of the send activity do.
type Sender struct {
	base, project string
	client        *http.Client
	now           func() time.Time
}

// New returns a Sender configured by opts.
func New(opts Options) *Sender {
	base := strings.TrimSuffix(opts.BaseURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Sender{
		base:    base,
		project: opts.Project,
		client:  &http.Client{Timeout: timeout, Transport: &oauth2.Transport{Source: opts.Tokens, Base: opts.Transport}},
		now:     now,
	}
}

// NewSender builds the sender from env's settings (EnvProject,
// EnvCredentials, EnvAPIURL). With none set it returns nil (push is off),
// unless env.Sandbox is set: the sender then sends to the lookalike at
// env.Sandbox + "/push" with SandboxBearer.
func NewSender(env channels.Env) (*Sender, error) {
	get := env.Getenv
	if get == nil {
		get = func(string) string { return "" }
	}
	project, creds, api := get(EnvProject), get(EnvCredentials), get(EnvAPIURL)
	if err := checkBase(api); err != nil {
		return nil, err
	}
	if project == "" && creds == "" {
		if env.Sandbox == "" {
			return nil, nil
		}
		if api == "" {
			api = strings.TrimSuffix(env.Sandbox, "/") + "/" + string(Channel)
		}
		return New(Options{Project: SandboxProject, BaseURL: api,
			Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: SandboxBearer})}), nil
	}
	if creds == "" {
		return nil, fmt.Errorf("push: %s is set but %s (the path of a service-account JSON) is not", EnvProject, EnvCredentials)
	}
	key, err := os.ReadFile(creds)
	if err != nil {
		return nil, fmt.Errorf("push: %s: %w", EnvCredentials, err)
	}
	ts, keyProject, err := Credentials(key, nil)
	if err != nil {
		return nil, fmt.Errorf("push: %s: %w", EnvCredentials, err)
	}
	if project == "" {
		project = keyProject
	}
	if project == "" {
		return nil, fmt.Errorf("push: %s is not set and the service account of %s names no project_id", EnvProject, EnvCredentials)
	}
	return New(Options{Project: project, BaseURL: api, Tokens: ts}), nil
}

// checkBase checks an FCM_API_URL setting; "" is the default.
func checkBase(api string) error {
	if api == "" {
		return nil
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("push: %s %q: want an http or https URL such as %s", EnvAPIURL, api, DefaultAPIURL)
	}
	return nil
}

// Credentials reads a service-account JSON key and returns the source of
// its access tokens for Scope, fetched from the key's token_uri through
// hc (nil: a client with a 30-second timeout), and the key's project_id.
// The source caches each token until shortly before it expires.
func Credentials(key []byte, hc *http.Client) (oauth2.TokenSource, string, error) {
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	// The context is kept for every later token fetch: it carries the
	// client, and no deadline.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	creds, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, Scope)
	if err != nil {
		return nil, "", fmt.Errorf("read service account: %w", err)
	}
	return creds.TokenSource, creds.ProjectID, nil
}

// Send sends msg's payload to each of msg.Devices. It succeeds when FCM
// accepts it for at least one device, with the first accepted message's
// name as MessageID; the tokens FCM called invalid are in Retired, of the
// result or of the SendError. When no device took it, the most hopeful
// failure speaks for the send: an unknown outcome, then a retryable
// failure, a configuration error, a refused message, and last, when every
// token was retired, a permanent UNREGISTERED.
func (s *Sender) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	var p Payload
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		return channels.SendResult{}, sendhttp.SendError(Channel, Provider, "bad_payload", "the message has no push payload", false, false, err)
	}
	tokens := distinct(msg.Devices)
	if len(tokens) == 0 {
		return channels.SendResult{}, sendhttp.SendError(Channel, Provider, "no_device_tokens", "the contact has no device token", false, false, nil)
	}
	rs := make([]tokenResult, len(tokens))
	for i, tok := range tokens {
		rs[i] = s.sendOne(ctx, tok, p)
	}
	return combine(tokens, rs)
}

// distinct returns tokens without empty or repeated ones, in order.
func distinct(tokens []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tokens {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// combine makes the result of a send from each token's.
func combine(tokens []string, rs []tokenResult) (channels.SendResult, error) {
	var gone []string
	first, worst := -1, 0
	var wait time.Duration
	for i, r := range rs {
		switch {
		case r.outcome == accepted && first < 0:
			first = i
		case r.outcome == retired:
			gone = append(gone, tokens[i])
		}
		if r.outcome > rs[worst].outcome {
			worst = i
		}
		wait = max(wait, r.retryAfter)
	}
	if first >= 0 {
		return channels.SendResult{Provider: Provider, MessageID: rs[first].name, Status: channels.StatusAccepted, Retired: gone}, nil
	}
	r := rs[worst]
	r.retryAfter = wait
	if r.outcome == retired {
		r.code = CodeUnregistered
		r.reason = fmt.Sprintf("every device token (%d) is no longer valid", len(tokens))
	} else if len(tokens) > 1 {
		r.reason = fmt.Sprintf("device %s: %s", Mask(tokens[worst]), r.reason)
	}
	return channels.SendResult{}, r.sendError(gone)
}

// request is the body of messages:send.
type request struct {
	Message message `json:"message"`
}

type message struct {
	Token        string            `json:"token"`
	Notification notification      `json:"notification"`
	Data         map[string]string `json:"data,omitempty"`
}

type notification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// sendOne sends p to one device token.
func (s *Sender) sendOne(ctx context.Context, tok string, p Payload) tokenResult {
	body, err := json.Marshal(request{Message: message{Token: tok, Notification: notification{p.Title, p.Body}, Data: p.Data}})
	if err != nil {
		return tokenResult{outcome: permanent, code: "bad_payload", reason: "the payload does not encode", err: err}
	}
	var tr sendhttp.Tracker
	u := s.base + "/v1/projects/" + url.PathEscape(s.project) + "/messages:send"
	req, err := http.NewRequestWithContext(tr.Trace(ctx), http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return tokenResult{outcome: config, code: "bad_url", reason: "the FCM URL is not valid", err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return failed(err, tr.Written())
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			Name string `json:"name"`
		}
		if err == nil {
			err = json.Unmarshal(answer, &ok)
		}
		if err != nil || ok.Name == "" {
			return tokenResult{outcome: unknown, code: "bad_answer", reason: "FCM answered 200 without a message name", err: err}
		}
		return tokenResult{outcome: accepted, name: ok.Name}
	}
	r := classify(resp.StatusCode, resp.Header, answer, s.now())
	r.reason = strings.ReplaceAll(r.reason, tok, Mask(tok))
	return r
}

// failed is the result of a request that got no answer: its outcome is
// unknown when it was written, else it never reached FCM. An access token
// the token endpoint refused is a configuration error.
func failed(err error, written bool) tokenResult {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		r := tokenResult{outcome: retryable, code: "oauth_http_" + strconv.Itoa(re.Response.StatusCode), reason: "the token endpoint refused an access token: " + re.ErrorCode, err: err}
		if c := re.Response.StatusCode; c >= 400 && c < 500 && c != http.StatusTooManyRequests && c != http.StatusRequestTimeout {
			r.outcome = config
		}
		return r
	}
	if written {
		return tokenResult{outcome: unknown, code: "no_answer", reason: "FCM did not answer: it may have the message", err: err}
	}
	return tokenResult{outcome: retryable, code: "unreachable", reason: "FCM could not be reached", err: err}
}

// Mask is a device token as logs and errors may show it: its last 6
// characters.
func Mask(tok string) string {
	if len(tok) <= 12 {
		return "…"
	}
	return "…" + tok[len(tok)-6:]
}

// maxToken bounds a device token's length.
const maxToken = 4096

// CheckToken reports what is wrong with a device token given at a start
// or in an import: it must be 1 to 4096 characters among letters, digits
// and - _ : . + / = (FCM's tokens are base64url with ':'). The error
// shows the token masked.
func CheckToken(tok string) error {
	if tok == "" || len(tok) > maxToken {
		return fmt.Errorf("device token of %d characters: want 1 to %d", len(tok), maxToken)
	}
	for _, r := range tok {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-_:.+/=", r)) {
			return fmt.Errorf("device token %s: %q is not a token character (letters, digits and - _ : . + / =)", Mask(tok), r)
		}
	}
	return nil
}
