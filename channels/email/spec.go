package email

import (
	"fmt"
	"maps"
	"slices"

	"github.com/switchbackhq/switchback/channels"
)

// Spec is an email attempt's fields: a SendGrid dynamic template and its
// data, or a subject with a text and/or HTML body. Every value is a
// template over the journey's variables; HTML is an html/template, whose
// variables are escaped for where they stand.
type Spec struct {
	Template *TemplateSpec `json:"template,omitempty"`
	Subject  string        `json:"subject,omitempty"`
	Text     string        `json:"text,omitempty"`
	HTML     string        `json:"html,omitempty"`
}

// TemplateSpec is a SendGrid dynamic template (d-...) and its data.
type TemplateSpec struct {
	ID   string            `json:"id"`
	Data map[string]string `json:"data,omitempty"`
}

// Parse parses an email attempt's fields.
func (Driver) Parse(f channels.Fields) (channels.Content, error) {
	var s Spec
	if err := f.Decode(&s); err != nil {
		return nil, err
	}
	switch {
	case s.Template != nil && s.Template.ID == "":
		return nil, channels.FieldErrors{{Field: ".template.id", Msg: "an email template has an id (d-...)"}}
	case s.Template == nil && (s.Subject == "" || (s.Text == "" && s.HTML == "")):
		return nil, channels.FieldErrors{{Msg: "an email attempt needs a template id, or a subject and a text or html body"}}
	}
	return s, nil
}

// Awaits are every receipt: SendGrid reports processed, delivered and
// opened (read).
func (Driver) Awaits() []channels.Status { return channels.ReceiptAwaits() }

// Texts lists the templated fields.
func (s Spec) Texts() []channels.Text {
	var ts []channels.Text
	for _, t := range []channels.Text{{Field: ".subject", Text: s.Subject}, {Field: ".text", Text: s.Text}, {Field: ".html", Text: s.HTML, HTML: true}} {
		if t.Text != "" {
			ts = append(ts, t)
		}
	}
	if t := s.Template; t != nil {
		for _, k := range slices.Sorted(maps.Keys(t.Data)) {
			ts = append(ts, channels.Text{Field: ".template.data." + k, Text: t.Data[k]})
		}
	}
	return ts
}

// Render fills msg.Email.
func (s Spec) Render(r channels.Renderer, msg *channels.Message) error {
	e := &channels.EmailContent{Subject: r.Text(".subject", s.Subject), Text: r.Text(".text", s.Text), HTML: r.HTML(".html", s.HTML)}
	if t := s.Template; t != nil {
		e.TemplateID = t.ID
		if len(t.Data) > 0 {
			e.Data = make(map[string]string, len(t.Data))
			for _, k := range slices.Sorted(maps.Keys(t.Data)) {
				e.Data[k] = r.Text(".template.data."+k, t.Data[k])
			}
		}
	}
	msg.Email = e
	return nil
}

// Describe names the template, or says email with its subject's field.
func (s Spec) Describe() string {
	if s.Template != nil {
		return fmt.Sprintf("email template %s", s.Template.ID)
	}
	return "email"
}
