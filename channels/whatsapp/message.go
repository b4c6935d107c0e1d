package whatsapp

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/switchbackhq/switchback/channels"
)

// Limits from Meta's message reference, in characters.
const (
	maxTextBody        = 4096
	maxCaption         = 1024
	maxHeaderText      = 60
	maxFooter          = 60
	maxButtonsBody     = 1024
	maxReplyButtons    = 3
	maxButtonTitle     = 20
	maxButtonID        = 256
	maxListRows        = 10
	maxListSections    = 10
	maxListButton      = 20
	maxSectionTitle    = 24
	maxRowTitle        = 24
	maxRowID           = 200
	maxRowDescription  = 72
	maxTemplateButtons = 10
)

// sendRequest is the body of POST /{phone-number-id}/messages.
type sendRequest struct {
	MessagingProduct      string             `json:"messaging_product"`
	RecipientType         string             `json:"recipient_type"`
	To                    string             `json:"to"`
	Type                  string             `json:"type"`
	Context               *contextObject     `json:"context,omitempty"`
	Text                  *textObject        `json:"text,omitempty"`
	Template              *templateObject    `json:"template,omitempty"`
	Image                 *mediaObject       `json:"image,omitempty"`
	Document              *mediaObject       `json:"document,omitempty"`
	Audio                 *mediaObject       `json:"audio,omitempty"`
	Video                 *mediaObject       `json:"video,omitempty"`
	Interactive           *interactiveObject `json:"interactive,omitempty"`
	BizOpaqueCallbackData string             `json:"biz_opaque_callback_data,omitempty"`
}

type contextObject struct {
	MessageID string `json:"message_id"`
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

// parameter is a template parameter: text, a quick-reply payload, or media.
type parameter struct {
	Type     string       `json:"type"`
	Text     string       `json:"text,omitempty"`
	Payload  string       `json:"payload,omitempty"`
	Image    *mediaObject `json:"image,omitempty"`
	Document *mediaObject `json:"document,omitempty"`
	Video    *mediaObject `json:"video,omitempty"`
}

// mediaObject is media by uploaded ID or by link.
type mediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type interactiveObject struct {
	Type   string             `json:"type"`
	Header *interactiveHeader `json:"header,omitempty"`
	Body   textField          `json:"body"`
	Footer *textField         `json:"footer,omitempty"`
	Action interactiveAction  `json:"action"`
}

type textField struct {
	Text string `json:"text"`
}

type interactiveHeader struct {
	Type     string       `json:"type"`
	Text     string       `json:"text,omitempty"`
	Image    *mediaObject `json:"image,omitempty"`
	Document *mediaObject `json:"document,omitempty"`
	Video    *mediaObject `json:"video,omitempty"`
}

type interactiveAction struct {
	Buttons  []replyButton `json:"buttons,omitempty"`
	Button   string        `json:"button,omitempty"`
	Sections []section     `json:"sections,omitempty"`
}

type replyButton struct {
	Type  string           `json:"type"`
	Reply channels.ListRow `json:"reply"` // id and title; no description
}

type section struct {
	Title string             `json:"title,omitempty"`
	Rows  []channels.ListRow `json:"rows"`
}

// buildRequest turns msg, whose recipient is already normalised to to,
// into the Cloud API request body. Its errors say what is wrong with msg.
func buildRequest(msg channels.Message, to string) (*sendRequest, error) {
	cb := msg.Correlation.String()
	if n := utf8.RuneCountInString(cb); n > maxCallbackData {
		return nil, fmt.Errorf("correlation is %d characters, more than the %d biz_opaque_callback_data allows", n, maxCallbackData)
	}
	req := &sendRequest{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		// E.164 with its "+": without it, Meta prepends the business
		// number's country code, which would reach someone else.
		To:                    "+" + to,
		BizOpaqueCallbackData: cb,
	}
	kinds := 0
	for _, set := range []bool{msg.Template != nil, msg.Text != "", msg.Media != nil, msg.Interactive != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("message must have exactly one of a template, text, media or an interactive part")
	}
	if msg.ReplyTo != "" {
		if msg.Template != nil {
			return nil, errors.New("a template cannot reply to a message")
		}
		req.Context = &contextObject{MessageID: msg.ReplyTo}
	}
	var err error
	switch {
	case msg.Template != nil:
		req.Type = "template"
		req.Template, err = buildTemplate(msg.Template)
	case msg.Text != "":
		if n := utf8.RuneCountInString(msg.Text); n > maxTextBody {
			return nil, fmt.Errorf("text is %d characters, more than %d", n, maxTextBody)
		}
		req.Type = "text"
		req.Text = &textObject{Body: msg.Text}
	case msg.Media != nil:
		var m *mediaObject
		if m, err = buildMedia(msg.Media, true); err == nil {
			req.Type = msg.Media.Kind
			req.setMedia(msg.Media.Kind, m)
		}
	default:
		req.Type = "interactive"
		req.Interactive, err = buildInteractive(msg.Interactive)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// setMedia sets the media field of kind.
func (r *sendRequest) setMedia(kind string, m *mediaObject) {
	switch kind {
	case channels.MediaImage:
		r.Image = m
	case channels.MediaDocument:
		r.Document = m
	case channels.MediaAudio:
		r.Audio = m
	case channels.MediaVideo:
		r.Video = m
	}
}

// buildMedia checks m and returns its media object. A caption is allowed
// only in a message of its own, not in a header, and not on audio.
func buildMedia(m *channels.Media, captioned bool) (*mediaObject, error) {
	switch m.Kind {
	case channels.MediaImage, channels.MediaDocument, channels.MediaAudio, channels.MediaVideo:
	default:
		return nil, fmt.Errorf("media kind %q is not image, document, audio or video", m.Kind)
	}
	switch {
	case (m.ID == "") == (m.Link == ""):
		return nil, fmt.Errorf("%s needs exactly one of a media id and a link", m.Kind)
	case m.Link != "":
		u, err := url.Parse(m.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%s link %q is not an absolute http(s) URL", m.Kind, m.Link)
		}
	}
	if m.Caption != "" && (!captioned || m.Kind == channels.MediaAudio) {
		return nil, fmt.Errorf("%s here cannot have a caption", m.Kind)
	}
	if n := utf8.RuneCountInString(m.Caption); n > maxCaption {
		return nil, fmt.Errorf("%s caption is %d characters, more than %d", m.Kind, n, maxCaption)
	}
	if m.Filename != "" && m.Kind != channels.MediaDocument {
		return nil, fmt.Errorf("only a document has a filename, not %s", m.Kind)
	}
	return &mediaObject{ID: m.ID, Link: m.Link, Caption: m.Caption, Filename: m.Filename}, nil
}

// mediaParameter returns a header parameter holding media.
func mediaParameter(m *channels.Media) (parameter, error) {
	if m.Kind == channels.MediaAudio {
		return parameter{}, errors.New("a header cannot be audio")
	}
	mo, err := buildMedia(m, false)
	if err != nil {
		return parameter{}, err
	}
	p := parameter{Type: m.Kind}
	switch m.Kind {
	case channels.MediaImage:
		p.Image = mo
	case channels.MediaDocument:
		p.Document = mo
	case channels.MediaVideo:
		p.Video = mo
	}
	return p, nil
}

// buildTemplate turns t into a template object: header, body, then
// buttons by index.
func buildTemplate(t *channels.Template) (*templateObject, error) {
	if t.Name == "" {
		return nil, errors.New("template has no name")
	}
	if t.Language == "" {
		return nil, fmt.Errorf("template %q has no language", t.Name)
	}
	obj := &templateObject{Name: t.Name, Language: languageObject{Code: t.Language}}
	if h := t.Header; h != nil {
		var p parameter
		switch {
		case (h.Text == "") == (h.Media == nil):
			return nil, errors.New("template header needs exactly one of text and media")
		case h.Media != nil:
			var err error
			if p, err = mediaParameter(h.Media); err != nil {
				return nil, fmt.Errorf("template header: %w", err)
			}
		default:
			p = parameter{Type: "text", Text: h.Text}
		}
		obj.Components = append(obj.Components, component{Type: "header", Parameters: []parameter{p}})
	}
	if len(t.Body) > 0 {
		ps := make([]parameter, len(t.Body))
		for i, v := range t.Body {
			if v == "" {
				return nil, fmt.Errorf("template body parameter %d is empty", i+1)
			}
			ps[i] = parameter{Type: "text", Text: v}
		}
		obj.Components = append(obj.Components, component{Type: "body", Parameters: ps})
	}
	buttons, err := templateButtons(t)
	if err != nil {
		return nil, err
	}
	obj.Components = append(obj.Components, buttons...)
	return obj, nil
}

// templateButtons returns the button components of t, sorted by index:
// ButtonURL[i] is the URL button at index i, Buttons carry their own.
func templateButtons(t *channels.Template) ([]component, error) {
	all := make([]channels.TemplateButton, 0, len(t.ButtonURL)+len(t.Buttons))
	for i, v := range t.ButtonURL {
		all = append(all, channels.TemplateButton{Index: i, Kind: channels.ButtonURL, Text: v})
	}
	all = append(all, t.Buttons...)
	slices.SortStableFunc(all, func(a, b channels.TemplateButton) int { return a.Index - b.Index })
	var out []component
	for i, b := range all {
		if b.Index < 0 || b.Index >= maxTemplateButtons {
			return nil, fmt.Errorf("template button index %d is outside 0-%d", b.Index, maxTemplateButtons-1)
		}
		if i > 0 && all[i-1].Index == b.Index {
			return nil, fmt.Errorf("template button index %d has two parameters", b.Index)
		}
		var p parameter
		switch b.Kind {
		case channels.ButtonQuickReply:
			if b.Payload == "" {
				return nil, fmt.Errorf("quick-reply button %d has no payload", b.Index)
			}
			p = parameter{Type: "payload", Payload: b.Payload}
		case channels.ButtonURL:
			if b.Text == "" {
				return nil, fmt.Errorf("URL button %d has no text", b.Index)
			}
			p = parameter{Type: "text", Text: b.Text}
		default:
			return nil, fmt.Errorf("template button %d has kind %q, want quick_reply or url", b.Index, b.Kind)
		}
		out = append(out, component{Type: "button", SubType: b.Kind, Index: strconv.Itoa(b.Index), Parameters: []parameter{p}})
	}
	return out, nil
}

// buildInteractive checks in against Meta's limits and returns its object.
func buildInteractive(in *channels.Interactive) (*interactiveObject, error) {
	obj := &interactiveObject{Type: in.Kind, Body: textField{Text: in.Body}}
	if in.Body == "" {
		return nil, errors.New("interactive message has no body")
	}
	if in.Footer != "" {
		if err := maxLen("footer", in.Footer, maxFooter); err != nil {
			return nil, err
		}
		obj.Footer = &textField{Text: in.Footer}
	}
	if in.Header != nil {
		h, err := buildInteractiveHeader(in)
		if err != nil {
			return nil, err
		}
		obj.Header = h
	}
	switch in.Kind {
	case channels.InteractiveButtons:
		if err := maxLen("body", in.Body, maxButtonsBody); err != nil {
			return nil, err
		}
		if len(in.Sections) > 0 || in.ListButton != "" {
			return nil, errors.New("reply buttons have no list")
		}
		if n := len(in.Buttons); n == 0 || n > maxReplyButtons {
			return nil, fmt.Errorf("%d reply buttons, want 1 to %d", n, maxReplyButtons)
		}
		var titles []string
		for _, b := range in.Buttons {
			if err := checkRow("button", b.ID, b.Title, "", maxButtonID, maxButtonTitle); err != nil {
				return nil, err
			}
			if slices.Contains(titles, b.Title) {
				return nil, fmt.Errorf("two reply buttons are titled %q", b.Title)
			}
			titles = append(titles, b.Title)
			obj.Action.Buttons = append(obj.Action.Buttons, replyButton{Type: "reply", Reply: channels.ListRow{ID: b.ID, Title: b.Title}})
		}
	case channels.InteractiveList:
		if err := maxLen("body", in.Body, maxTextBody); err != nil {
			return nil, err
		}
		if len(in.Buttons) > 0 {
			return nil, errors.New("a list has no reply buttons")
		}
		if in.ListButton == "" {
			return nil, errors.New("a list needs the label of its button")
		}
		if err := maxLen("list button", in.ListButton, maxListButton); err != nil {
			return nil, err
		}
		if n := len(in.Sections); n == 0 || n > maxListSections {
			return nil, fmt.Errorf("%d list sections, want 1 to %d", n, maxListSections)
		}
		rows := 0
		for _, s := range in.Sections {
			if len(in.Sections) > 1 && s.Title == "" {
				return nil, errors.New("each section of a list with several needs a title")
			}
			if err := maxLen("section title", s.Title, maxSectionTitle); err != nil {
				return nil, err
			}
			for _, r := range s.Rows {
				if err := checkRow("row", r.ID, r.Title, r.Description, maxRowID, maxRowTitle); err != nil {
					return nil, err
				}
			}
			rows += len(s.Rows)
			obj.Action.Sections = append(obj.Action.Sections, section{Title: s.Title, Rows: s.Rows})
		}
		if rows == 0 || rows > maxListRows {
			return nil, fmt.Errorf("%d list rows, want 1 to %d", rows, maxListRows)
		}
		obj.Action.Button = in.ListButton
	default:
		return nil, fmt.Errorf("interactive kind %q is not button or list", in.Kind)
	}
	return obj, nil
}

func buildInteractiveHeader(in *channels.Interactive) (*interactiveHeader, error) {
	h := in.Header
	switch {
	case (h.Text == "") == (h.Media == nil):
		return nil, errors.New("interactive header needs exactly one of text and media")
	case h.Text != "":
		if err := maxLen("header", h.Text, maxHeaderText); err != nil {
			return nil, err
		}
		return &interactiveHeader{Type: "text", Text: h.Text}, nil
	case in.Kind == channels.InteractiveList:
		return nil, errors.New("a list header can only be text")
	}
	p, err := mediaParameter(h.Media)
	if err != nil {
		return nil, fmt.Errorf("interactive header: %w", err)
	}
	return &interactiveHeader{Type: p.Type, Image: p.Image, Document: p.Document, Video: p.Video}, nil
}

// checkRow checks the id, title and description of a button or list row.
func checkRow(what, id, title, description string, maxID, maxTitle int) error {
	if id == "" || title == "" {
		return fmt.Errorf("%s needs an id and a title", what)
	}
	if err := maxLen(what+" id", id, maxID); err != nil {
		return err
	}
	if err := maxLen(what+" title", title, maxTitle); err != nil {
		return err
	}
	return maxLen(what+" description", description, maxRowDescription)
}

func maxLen(what, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%s is %d characters, more than %d", what, n, max)
	}
	return nil
}
