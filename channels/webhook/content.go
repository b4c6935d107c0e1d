package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/switchbackhq/switchback/channels"
)

// MaxBodySize is the most bytes a webhook's body may take, written or
// rendered.
const MaxBodySize = 64 << 10

// Payload is a rendered webhook, as Content.Render puts it in
// channels.Message.Payload and the Client reads it.
type Payload struct {
	// URL is where the webhook goes, as the journey wrote it.
	URL string `json:"url"`
	// Headers are extra request headers, rendered, by canonical name.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the rendered JSON object, sent as it is.
	Body json.RawMessage `json:"body"`
}

// spec is an attempt's fields as a journey writes them.
type spec struct {
	// URL is not templated, so that no variable (a code, a number) ever
	// ends up in a URL, where servers and proxies log it.
	URL string `json:"url"`
	// Body is a JSON object whose string values, at any depth, are
	// text/templates over the journey's variables.
	Body json.RawMessage `json:"body"`
	// Headers map extra header names to text/templates; any, so that a
	// value of another type is named by its header.
	Headers map[string]any `json:"headers"`
}

// refusedHeaders are those an attempt may not set: the signature's, the
// request's framing, and the hop-by-hop ones.
var refusedHeaders = []string{
	"webhook-id", "webhook-timestamp", "webhook-signature",
	"content-type", "content-length", "host",
	"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
	"te", "trailer", "transfer-encoding", "upgrade",
}

// token is an HTTP header name (RFC 9110 token).
var token = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Content is a webhook attempt: where it goes, its body and its headers.
type Content struct {
	url     string
	host    string
	body    map[string]any // decoded with json.Number
	headers map[string]string
}

// Parse checks an attempt's fields (url, body, headers) and returns its
// Content; its error is a channels.FieldErrors naming each field wrong.
func (Driver) Parse(f channels.Fields) (channels.Content, error) {
	var s spec
	if err := f.Decode(&s); err != nil {
		return nil, err
	}
	var errs channels.FieldErrors
	c := &Content{url: s.URL, headers: map[string]string{}}
	u, err := checkURL(s.URL)
	if err != nil {
		errs.Add(".url", "%v", err)
	} else {
		c.host = u.Host
	}
	c.body, err = parseBody(s.Body)
	if err != nil {
		errs.Add(".body", "%v", err)
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
		canon := http.CanonicalHeaderKey(name)
		value, isString := s.Headers[name].(string)
		switch {
		case !token.MatchString(name):
			errs.Add(".headers."+name, "is not a header name")
		case slices.Contains(refusedHeaders, strings.ToLower(name)):
			errs.Add(".headers."+name, "is set by Switchback or by HTTP itself: leave it out")
		case seen[canon] != "":
			errs.Add(".headers."+name, "repeats header %s", seen[canon])
		case !isString:
			errs.Add(".headers."+name, "want a string (quote it)")
		default:
			seen[canon] = name
			c.headers[name] = value
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkURL checks that s is an absolute https URL, or an http URL of a
// loopback host (for tests and local receivers), without credentials.
func checkURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("is required: where the webhook goes")
	}
	if strings.Contains(s, "{{") {
		return nil, errors.New("is not templated: write the URL itself, so that no variable ends up in a URL")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, errors.New("want an absolute https URL")
	}
	switch {
	case u.User != nil:
		return nil, errors.New("holds credentials: leave them out (the signature authenticates the webhook)")
	case u.Fragment != "":
		return nil, errors.New("has a #fragment, which is never sent: leave it out")
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("is http to %s: want https (http only to a loopback host)", u.Hostname())
	default:
		return nil, fmt.Errorf("scheme %q: want https", u.Scheme)
	}
	return u, nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseBody decodes a written body: a JSON object, numbers kept exact.
func parseBody(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("is required: a mapping, sent as a JSON object")
	}
	if len(raw) > MaxBodySize {
		return nil, fmt.Errorf("is %d bytes written, more than the %d allowed", len(raw), MaxBodySize)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not JSON-shaped: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("must be a mapping, sent as a JSON object")
	}
	return m, nil
}

// Texts lists every string of the body, at any depth, and every header
// value: each is a text/template.
func (c *Content) Texts() []channels.Text {
	var out []channels.Text
	walk(".body", c.body, func(field string, s string) string {
		out = append(out, channels.Text{Field: field, Text: s})
		return s
	})
	for _, name := range slices.Sorted(maps.Keys(c.headers)) {
		out = append(out, channels.Text{Field: ".headers." + name, Text: c.headers[name]})
	}
	return out
}

// Render renders the body's strings and the header values with r and puts
// the Payload in msg.Payload. Object keys come out sorted.
func (c *Content) Render(r channels.Renderer, msg *channels.Message) error {
	body, err := json.Marshal(walk(".body", c.body, r.Text))
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	if len(body) > MaxBodySize {
		return fmt.Errorf("webhook body: rendered to %d bytes, more than the %d allowed", len(body), MaxBodySize)
	}
	p := Payload{URL: c.url, Body: body}
	for _, name := range slices.Sorted(maps.Keys(c.headers)) {
		field := ".headers." + name
		v := r.Text(field, c.headers[name])
		if !validHeaderValue(v) {
			return fmt.Errorf("webhook %s: renders to a control character, which a header cannot hold", field)
		}
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		p.Headers[http.CanonicalHeaderKey(name)] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	msg.Payload = b
	return nil
}

// Describe says where the webhook goes: the host, never the path or query.
func (c *Content) Describe() string { return "webhook POST to " + c.host }

// walk returns a copy of v, a decoded JSON value at path field, with each
// string s replaced by f(path, s); objects are walked in key order.
func walk(field string, v any, f func(field, s string) string) any {
	switch v := v.(type) {
	case string:
		return f(field, v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out[k] = walk(field+"."+k, v[k], f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = walk(fmt.Sprintf("%s[%d]", field, i), e, f)
		}
		return out
	}
	return v // json.Number, bool, nil
}

// validHeaderValue reports whether v has no control character but tab.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f })
}
