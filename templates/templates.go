// Package templates is Switchback's registry of WhatsApp message
// templates: their languages, categories, review statuses, quality
// ratings and parameter counts, pulled from the Graph API
// (GET /{waba-id}/message_templates) and kept current by the
// message_template_status_update webhook. The WhatsApp sender checks a
// template send against it before calling the Cloud API.
//
// The registry is kept in the store (store.Store's template methods).
package templates

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// Template is one template in one language.
type Template struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"` // as the API writes it: en_US
	// Category is MARKETING, UTILITY or AUTHENTICATION.
	Category string `json:"category"`
	// Status is APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
	Status string `json:"status"`
	// ParameterFormat is POSITIONAL or NAMED.
	ParameterFormat string `json:"parameter_format,omitempty"`
	// Quality is GREEN, YELLOW, RED or UNKNOWN ("" when not reported).
	Quality        string      `json:"quality,omitempty"`
	RejectedReason string      `json:"rejected_reason,omitempty"`
	Components     []Component `json:"components"`
}

// Component is the header, body, footer or buttons of a template.
type Component struct {
	Type   string `json:"type"`             // HEADER, BODY, FOOTER, BUTTONS
	Format string `json:"format,omitempty"` // header: TEXT, IMAGE, DOCUMENT, VIDEO, LOCATION
	Text   string `json:"text,omitempty"`
	// Params counts the parameters a send must give (header and body).
	Params  int      `json:"params"`
	Buttons []Button `json:"buttons,omitempty"`
}

// Button is one template button.
type Button struct {
	Type string `json:"type"` // QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, ...
	Text string `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
	// Params is 1 for a button whose send gives a value: a URL with a
	// variable, a copy code.
	Params int `json:"params"`
}

// placeholder matches {{1}} and {{name}}.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// countParams counts the distinct placeholders in text.
func countParams(text string) int {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

// buttonParams returns the parameters a send gives button b.
func buttonParams(b Button) int {
	switch strings.ToUpper(b.Type) {
	case "URL", "OTP":
		if countParams(b.URL) > 0 {
			return 1
		}
	case "COPY_CODE":
		return 1
	}
	return 0
}

// Info returns what the WhatsApp sender's pre-send check needs of t.
func (t Template) Info() whatsapp.TemplateInfo {
	info := whatsapp.TemplateInfo{Name: t.Name, Language: t.Language, Status: t.Status}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			info.HeaderFormat, info.HeaderParams = strings.ToUpper(c.Format), c.Params
		case "BODY":
			info.BodyParams = c.Params
		case "BUTTONS":
			for _, b := range c.Buttons {
				info.Buttons = append(info.Buttons, whatsapp.ButtonInfo{Type: strings.ToUpper(b.Type), Params: b.Params})
			}
		}
	}
	return info
}

// Params summarises t's parameter counts for a listing, e.g.
// "header 1, body 2, buttons 0+1".
func (t Template) Params() string {
	info := t.Info()
	var parts []string
	if info.HeaderFormat != "" {
		h := strings.ToLower(info.HeaderFormat)
		if info.HeaderFormat == "TEXT" {
			h = strconv.Itoa(info.HeaderParams)
		}
		parts = append(parts, "header "+h)
	}
	parts = append(parts, "body "+strconv.Itoa(info.BodyParams))
	if len(info.Buttons) > 0 {
		var bs []string
		for _, b := range info.Buttons {
			bs = append(bs, strconv.Itoa(b.Params))
		}
		parts = append(parts, "buttons "+strings.Join(bs, "+"))
	}
	return strings.Join(parts, ", ")
}
