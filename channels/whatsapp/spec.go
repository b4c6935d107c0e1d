package whatsapp

import (
	"fmt"
	"unicode/utf8"

	"github.com/switchbackhq/switchback/channels"
)

// MaxSessionText is the longest text message the Cloud API accepts, in
// characters.
const MaxSessionText = 4096

// Spec is a WhatsApp attempt's fields: an approved template, session text
// for inside the 24-hour customer-service window, or both (the template
// goes when the window is closed).
type Spec struct {
	Template *TemplateSpec `json:"template,omitempty"`
	// Session is free-form text, sent only inside the window.
	Session string `json:"session,omitempty"`
}

// TemplateSpec names an approved template and the text of its parameters;
// every value is a template over the journey's variables.
type TemplateSpec struct {
	Name      string   `json:"name"`
	Language  string   `json:"language"`
	Body      []string `json:"body,omitempty"`
	ButtonURL []string `json:"button_url,omitempty"`
	// Header is the parameter of a header that has one.
	Header *HeaderSpec `json:"header,omitempty"`
	// Buttons are button parameters by index: quick-reply payloads, or URL
	// suffixes (button_url is the short form for URL buttons 0, 1, ...).
	Buttons []ButtonSpec `json:"buttons,omitempty"`
}

// HeaderSpec is a template header parameter: text, or a link to an image,
// document or video. Exactly one is set.
type HeaderSpec struct {
	Text     string `json:"text,omitempty"`
	Image    string `json:"image,omitempty"`
	Document string `json:"document,omitempty"`
	Video    string `json:"video,omitempty"`
	// Filename names a document for the customer.
	Filename string `json:"filename,omitempty"`
}

// ButtonSpec is the parameter of one template button. Exactly one of
// QuickReply and URL is set.
type ButtonSpec struct {
	Index int `json:"index"`
	// QuickReply is the payload that comes back when the button is tapped.
	QuickReply string `json:"quick_reply,omitempty"`
	// URL is the suffix appended to the button's URL.
	URL string `json:"url,omitempty"`
}

// Parse parses a WhatsApp attempt's fields.
func (Driver) Parse(f channels.Fields) (channels.Content, error) {
	var s Spec
	if err := f.Decode(&s); err != nil {
		return nil, err
	}
	var errs channels.FieldErrors
	if s.Template == nil && s.Session == "" {
		errs.Add("", "a whatsapp attempt needs a template or session text (both: the template goes when the 24-hour window is closed)")
	}
	if t := s.Template; t != nil {
		if t.Name == "" {
			errs.Add(".template.name", "is required")
		}
		if t.Language == "" {
			errs.Add(".template.language", "is required (e.g. en_US)")
		}
		if h := t.Header; h != nil && countSet(h.Text, h.Image, h.Document, h.Video) != 1 {
			errs.Add(".template.header", "a header has exactly one of text, image, document and video")
		}
		for i, b := range t.Buttons {
			if countSet(b.QuickReply, b.URL) != 1 || b.Index < 0 || b.Index > 9 {
				errs.Add(fmt.Sprintf(".template.buttons[%d]", i), "a button has an index from 0 to 9 and exactly one of quick_reply and url")
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Awaits are every receipt: the Cloud API reports sent, delivered and read.
func (Driver) Awaits() []channels.Status { return channels.ReceiptAwaits() }

// HasSession reports whether the attempt has session text.
func (s Spec) HasSession() bool { return s.Session != "" }

// HasTemplate reports whether the attempt has a template.
func (s Spec) HasTemplate() bool { return s.Template != nil }

// Texts lists the templated fields.
func (s Spec) Texts() []channels.Text {
	var ts []channels.Text
	add := func(field, text string) {
		if text != "" {
			ts = append(ts, channels.Text{Field: field, Text: text})
		}
	}
	add(".session", s.Session)
	t := s.Template
	if t == nil {
		return ts
	}
	for i, b := range t.Body {
		add(fmt.Sprintf(".template.body[%d]", i), b)
	}
	for i, u := range t.ButtonURL {
		add(fmt.Sprintf(".template.button_url[%d]", i), u)
	}
	if h := t.Header; h != nil {
		add(".template.header.text", h.Text)
		add(".template.header.image", h.Image)
		add(".template.header.document", h.Document)
		add(".template.header.video", h.Video)
	}
	for i, b := range t.Buttons {
		add(fmt.Sprintf(".template.buttons[%d]", i), b.QuickReply+b.URL)
	}
	return ts
}

// Render fills msg's Text (the session text) and Template, rendered by r.
// With both set the journey sends one, by the 24-hour window. Session
// text longer than MaxSessionText is an error.
func (s Spec) Render(r channels.Renderer, msg *channels.Message) error {
	msg.Text = r.Text(".session", s.Session)
	if n := utf8.RuneCountInString(msg.Text); n > MaxSessionText {
		return fmt.Errorf("session: %d characters, WhatsApp takes at most %d", n, MaxSessionText)
	}
	t := s.Template
	if t == nil {
		return nil
	}
	msg.Template = &channels.Template{Name: t.Name, Language: t.Language, Body: all(r, ".template.body", t.Body), ButtonURL: all(r, ".template.button_url", t.ButtonURL)}
	if h := t.Header; h != nil {
		msg.Template.Header = h.render(r)
	}
	for i, b := range t.Buttons {
		field := fmt.Sprintf(".template.buttons[%d]", i)
		tb := channels.TemplateButton{Index: b.Index, Kind: channels.ButtonQuickReply, Payload: r.Text(field, b.QuickReply)}
		if b.URL != "" {
			tb = channels.TemplateButton{Index: b.Index, Kind: channels.ButtonURL, Text: r.Text(field, b.URL)}
		}
		msg.Template.Buttons = append(msg.Template.Buttons, tb)
	}
	return nil
}

// Describe names the template, or says session text, or both.
func (s Spec) Describe() string {
	switch {
	case s.Template != nil && s.Session != "":
		return "template " + s.Template.Name + " or session text"
	case s.Template != nil:
		return "template " + s.Template.Name
	}
	return "session text"
}

func (h *HeaderSpec) render(r channels.Renderer) *channels.Header {
	if h.Text != "" {
		return &channels.Header{Text: r.Text(".template.header.text", h.Text)}
	}
	m := &channels.Media{Kind: channels.MediaImage, Link: r.Text(".template.header.image", h.Image), Filename: h.Filename}
	switch {
	case h.Document != "":
		m.Kind, m.Link = channels.MediaDocument, r.Text(".template.header.document", h.Document)
	case h.Video != "":
		m.Kind, m.Link = channels.MediaVideo, r.Text(".template.header.video", h.Video)
	}
	return &channels.Header{Media: m}
}

// all renders each text of a list.
func all(r channels.Renderer, field string, texts []string) []string {
	if texts == nil {
		return nil
	}
	out := make([]string, len(texts))
	for i, s := range texts {
		out[i] = r.Text(fmt.Sprintf("%s[%d]", field, i), s)
	}
	return out
}

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
