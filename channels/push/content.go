package push

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/switchbackhq/switchback/channels"
)

// MaxPayload is the most bytes FCM takes in one message's title, body and
// data keys and values together.
const MaxPayload = 4096

// reservedKeys are data keys FCM refuses; keys starting with
// reservedPrefixes are refused too.
var (
	reservedKeys     = []string{"from", "notification", "message_type"}
	reservedPrefixes = []string{"google.", "gcm."}
)

// Spec is a push attempt's fields:
//
//   - channel: push
//     title: "Your order {{.order_id}}"
//     body: "is on its way"
//     data: {order_id: "{{.order_id}}", screen: orders}
//
// Title and body are required; data, a mapping of strings handed to the
// app, is optional. Each is a text/template over the journey's variables.
type Spec struct {
	Title string            `json:"title"`
	Body  string            `json:"body"`
	Data  map[string]string `json:"data,omitempty"`
}

// Payload is a rendered push message: channels.Message.Payload holds it
// as JSON.
type Payload struct {
	Title string            `json:"title"`
	Body  string            `json:"body"`
	Data  map[string]string `json:"data,omitempty"`
}

// size is the payload's bytes as MaxPayload counts them.
func (p Payload) size() int {
	n := len(p.Title) + len(p.Body)
	for k, v := range p.Data {
		n += len(k) + len(v)
	}
	return n
}

// Parse checks an attempt's fields: title and body present, data keys
// that FCM takes.
func (Driver) Parse(f channels.Fields) (channels.Content, error) {
	var s Spec
	if err := f.Decode(&s); err != nil {
		return nil, err
	}
	var errs channels.FieldErrors
	if strings.TrimSpace(s.Title) == "" {
		errs.Add(".title", "is required: the notification's title")
	}
	if strings.TrimSpace(s.Body) == "" {
		errs.Add(".body", "is required: the notification's text")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		if msg := checkKey(k); msg != "" {
			errs.Add(".data."+k, "%s", msg)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return content(s), nil
}

// checkKey says what is wrong with a data key, or "".
func checkKey(k string) string {
	switch {
	case k == "":
		return "a data key may not be empty"
	case slices.Contains(reservedKeys, strings.ToLower(k)):
		return fmt.Sprintf("%q is reserved by FCM", k)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(strings.ToLower(k), p) {
			return fmt.Sprintf("keys starting %q are reserved by FCM", p)
		}
	}
	return ""
}

// content is a parsed push attempt.
type content Spec

// Texts are the title, the body and each data value, by key.
func (c content) Texts() []channels.Text {
	ts := []channels.Text{{Field: ".title", Text: c.Title}, {Field: ".body", Text: c.Body}}
	for _, k := range slices.Sorted(maps.Keys(c.Data)) {
		ts = append(ts, channels.Text{Field: ".data." + k, Text: c.Data[k]})
	}
	return ts
}

// Render renders the title, body and data into msg.Payload. A payload
// past MaxPayload is an error.
func (c content) Render(r channels.Renderer, msg *channels.Message) error {
	p := Payload{Title: r.Text(".title", c.Title), Body: r.Text(".body", c.Body)}
	if len(c.Data) > 0 {
		p.Data = make(map[string]string, len(c.Data))
		for _, k := range slices.Sorted(maps.Keys(c.Data)) {
			p.Data[k] = r.Text(".data."+k, c.Data[k])
		}
	}
	if n := p.size(); n > MaxPayload {
		return fmt.Errorf("push notification: title, body and data are %d bytes once rendered; FCM takes at most %d", n, MaxPayload)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("push notification: %w", err)
	}
	msg.Payload = b
	return nil
}

// Describe is "push notification".
func (content) Describe() string { return "push notification" }
