package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchbackhq/switchback/channels"
)

// Session is a session message: free-form, sent only inside the 24-hour
// customer-service window. In a journey it is a string, which is text, or
// a mapping with exactly one of these forms:
//
//	{text}                               text
//	{text, header?, footer?, buttons}    reply buttons (1 to 3)
//	{text, header?, footer?, list}       a list: a button opening sections of rows
//	{media}                              an image, document, video or audio
//
// The text of buttons and lists is the message's body. Every string is a
// template over the journey's variables. The limits are the Cloud API's
// (providers.md §1.2, §1.4, §1.5): Parse checks those the written text
// already breaks, Render checks them again once rendered.
type Session struct {
	Text    string            `json:"text,omitempty"`
	Header  string            `json:"header,omitempty"`
	Footer  string            `json:"footer,omitempty"`
	Buttons []ReplyButtonSpec `json:"buttons,omitempty"`
	List    *ListSpec         `json:"list,omitempty"`
	Media   *MediaSpec        `json:"media,omitempty"`
	// plain marks a session written as a string.
	plain bool
}

// ReplyButtonSpec is one reply button. Its ID comes back as the payload
// of the customer's reply when it is tapped.
type ReplyButtonSpec struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListSpec is a list message's menu: the label of the button that opens
// it, and its sections.
type ListSpec struct {
	Button   string        `json:"button"`
	Sections []SectionSpec `json:"sections"`
}

// SectionSpec is a group of list rows, titled when the list has several.
type SectionSpec struct {
	Title string    `json:"title,omitempty"`
	Rows  []RowSpec `json:"rows"`
}

// RowSpec is one choice of a list. Its ID comes back as the payload of
// the customer's reply when it is chosen.
type RowSpec struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// MediaSpec is media sent as a message of its own: by an https link or an
// uploaded media ID (exactly one), with a caption (not on audio) and a
// filename (documents only).
type MediaSpec struct {
	Kind     string `json:"kind"`
	Link     string `json:"link,omitempty"`
	ID       string `json:"id,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// UnmarshalJSON reads a session written as a string (text) or a mapping.
func (s *Session) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*s = Session{plain: true}
		return json.Unmarshal(b, &s.Text)
	}
	type plain Session
	return json.Unmarshal(b, (*plain)(s))
}

// Session kinds, as Describe names them.
const (
	sessionNone    = ""
	sessionText    = "text"
	sessionButtons = "buttons"
	sessionList    = "list"
	sessionMedia   = "media"
)

// kind returns the session's form; "" when it is empty or has several.
func (s *Session) kind() string {
	switch forms := countTrue(len(s.Buttons) > 0, s.List != nil, s.Media != nil); {
	case forms > 1:
		return sessionNone
	case len(s.Buttons) > 0:
		return sessionButtons
	case s.List != nil:
		return sessionList
	case s.Media != nil:
		return sessionMedia
	case s.Text != "":
		return sessionText
	}
	return sessionNone
}

// set reports whether the session has anything to send.
func (s *Session) set() bool {
	return s.Text != "" || len(s.Buttons) > 0 || s.List != nil || s.Media != nil || s.Header != "" || s.Footer != ""
}

// textField is the path of the session's text.
func (s *Session) textField() string {
	if s.plain {
		return ".session"
	}
	return ".session.text"
}

// check adds every problem of the session as written to errs.
func (s *Session) check(errs *channels.FieldErrors) {
	kind := s.kind()
	switch {
	case kind == sessionNone && countTrue(len(s.Buttons) > 0, s.List != nil, s.Media != nil) > 1:
		errs.Add(".session", "has exactly one of buttons, list and media")
		return
	case kind == sessionNone:
		errs.Add(".session", "needs text, buttons, a list or media")
		return
	case kind == sessionMedia && s.Text != "":
		errs.Add(".session.text", "a media message has no text: put it in media.caption")
	case (kind == sessionButtons || kind == sessionList) && s.Text == "":
		errs.Add(".session.text", "is required: the body of the %s message", kind)
	}
	if kind != sessionButtons && kind != sessionList {
		for _, f := range []struct{ name, v string }{{"header", s.Header}, {"footer", s.Footer}} {
			if f.v != "" {
				errs.Add(".session."+f.name, "only buttons and list messages have a %s", f.name)
			}
		}
	}
	body := maxTextBody
	if kind == sessionButtons {
		body = maxButtonsBody
	}
	checkLen(errs, s.textField(), s.Text, body)
	checkLen(errs, ".session.header", s.Header, maxHeaderText)
	checkLen(errs, ".session.footer", s.Footer, maxFooter)
	switch kind {
	case sessionButtons:
		s.checkButtons(errs)
	case sessionList:
		s.List.check(errs)
	case sessionMedia:
		s.Media.check(errs)
	}
}

// checkButtons checks the reply buttons: 1 to 3, each with an id of at
// most 256 characters and a title of at most 20, titles unique
// (providers.md §1.5).
func (s *Session) checkButtons(errs *channels.FieldErrors) {
	if len(s.Buttons) > maxReplyButtons {
		errs.Add(".session.buttons", "%d buttons: WhatsApp takes at most %d", len(s.Buttons), maxReplyButtons)
	}
	seen := choices{}
	for i, b := range s.Buttons {
		at := fmt.Sprintf(".session.buttons[%d]", i)
		checkChoice(errs, at, b.ID, b.Title, maxButtonID, maxButtonTitle)
		seen.add(errs, at, b.ID, b.Title)
	}
}

// check checks a list: a button label of at most 20 characters, 1 to 10
// sections, 1 to 10 rows in all, section titles of at most 24 (needed
// when there are several), row ids of at most 200, row titles of at most
// 24, descriptions of at most 72 (providers.md §1.5).
func (l *ListSpec) check(errs *channels.FieldErrors) {
	if l.Button == "" {
		errs.Add(".session.list.button", "is required: the label of the button that opens the list")
	}
	checkLen(errs, ".session.list.button", l.Button, maxListButton)
	rows := 0
	for _, sec := range l.Sections {
		rows += len(sec.Rows)
	}
	switch {
	case len(l.Sections) == 0:
		errs.Add(".session.list.sections", "a list needs at least one section of rows")
	case len(l.Sections) > maxListSections:
		errs.Add(".session.list.sections", "%d sections: WhatsApp takes at most %d", len(l.Sections), maxListSections)
	case rows == 0 || rows > maxListRows:
		errs.Add(".session.list.sections", "%d rows in all: WhatsApp takes 1 to %d", rows, maxListRows)
	}
	seen := choices{}
	for i, sec := range l.Sections {
		at := fmt.Sprintf(".session.list.sections[%d]", i)
		if sec.Title == "" && len(l.Sections) > 1 {
			errs.Add(at+".title", "is required when a list has several sections")
		}
		checkLen(errs, at+".title", sec.Title, maxSectionTitle)
		for k, r := range sec.Rows {
			row := fmt.Sprintf("%s.rows[%d]", at, k)
			checkChoice(errs, row, r.ID, r.Title, maxRowID, maxRowTitle)
			checkLen(errs, row+".description", r.Description, maxRowDescription)
			seen.add(errs, row, r.ID, r.Title)
		}
	}
}

// check checks media: a known kind, exactly one of an https link and an
// uploaded id, a caption of at most 1024 characters and not on audio, a
// filename only on a document (providers.md §1.4).
func (m *MediaSpec) check(errs *channels.FieldErrors) {
	switch m.Kind {
	case channels.MediaImage, channels.MediaDocument, channels.MediaVideo, channels.MediaAudio:
	case "":
		errs.Add(".session.media.kind", "is required: image, document, video or audio")
	default:
		errs.Add(".session.media.kind", "must be image, document, video or audio, not %q", m.Kind)
	}
	if (m.Link == "") == (m.ID == "") {
		errs.Add(".session.media", "needs exactly one of link (https) and id (an uploaded media id)")
	}
	if m.Link != "" && !strings.HasPrefix(m.Link, "{{") && !strings.HasPrefix(m.Link, "https://") {
		errs.Add(".session.media.link", "must be an https URL")
	}
	if m.Caption != "" && m.Kind == channels.MediaAudio {
		errs.Add(".session.media.caption", "audio has no caption")
	}
	checkLen(errs, ".session.media.caption", m.Caption, maxCaption)
	if m.Filename != "" && m.Kind != channels.MediaDocument {
		errs.Add(".session.media.filename", "only a document has a filename")
	}
}

// checkChoice checks the id and title of a button or row.
func checkChoice(errs *channels.FieldErrors, at, id, title string, maxID, maxTitle int) {
	if id == "" {
		errs.Add(at+".id", "is required: it comes back as the reply's payload")
	}
	if title == "" {
		errs.Add(at+".title", "is required")
	}
	checkLen(errs, at+".id", id, maxID)
	checkLen(errs, at+".title", title, maxTitle)
}

// choices are the ids and titles of a message's buttons or rows so far.
type choices map[string]bool

// add adds a choice's id and title; one given before is a problem: a
// reply must name one choice, and WhatsApp wants button titles unique.
func (c choices) add(errs *channels.FieldErrors, at, id, title string) {
	if id != "" && c["id:"+id] {
		errs.Add(at+".id", "%q is the id of an earlier choice: a reply must name one", id)
	}
	if title != "" && c["title:"+title] {
		errs.Add(at+".title", "%q is the title of an earlier choice", title)
	}
	c["id:"+id], c["title:"+title] = true, true
}

// checkLen adds a problem when the text outside text's template actions
// is already longer than max characters: rendering only adds to it.
func checkLen(errs *channels.FieldErrors, field, text string, max int) {
	if n := utf8.RuneCountInString(literal(text)); n > max {
		errs.Add(field, "is %d characters, WhatsApp takes at most %d", n, max)
	}
}

// literal returns text without its template actions ({{...}}).
func literal(text string) string {
	var b strings.Builder
	for {
		before, rest, ok := strings.Cut(text, "{{")
		b.WriteString(before)
		if !ok {
			return b.String()
		}
		_, after, closed := strings.Cut(rest, "}}")
		if !closed {
			return b.String()
		}
		text = after
	}
}

// render fills msg's session part: Text, Interactive or Media, each text
// rendered by r, then checked against the Cloud API's limits (the checks
// the client makes before it sends).
func (s *Session) render(r channels.Renderer, msg *channels.Message) error {
	text := r.Text(s.textField(), s.Text)
	switch s.kind() {
	case sessionText:
		msg.Text = text
		return channels.CheckLength(s.textField(), text, MaxSessionText, "WhatsApp")
	case sessionMedia:
		m := s.Media
		msg.Media = &channels.Media{Kind: m.Kind, ID: r.Text(".session.media.id", m.ID), Link: r.Text(".session.media.link", m.Link),
			Caption: r.Text(".session.media.caption", m.Caption), Filename: r.Text(".session.media.filename", m.Filename)}
		if msg.Media.Link != "" && !strings.HasPrefix(msg.Media.Link, "https://") {
			return errors.New("session.media.link: must be an https URL")
		}
		if _, err := buildMedia(msg.Media, true); err != nil {
			return fmt.Errorf("session.media: %w", err)
		}
		return nil
	}
	in := &channels.Interactive{Kind: channels.InteractiveButtons, Body: text, Footer: r.Text(".session.footer", s.Footer)}
	if s.Header != "" {
		in.Header = &channels.Header{Text: r.Text(".session.header", s.Header)}
	}
	for i, b := range s.Buttons {
		at := fmt.Sprintf(".session.buttons[%d]", i)
		in.Buttons = append(in.Buttons, channels.ReplyButton{ID: r.Text(at+".id", b.ID), Title: r.Text(at+".title", b.Title)})
	}
	if l := s.List; l != nil {
		in.Kind, in.ListButton = channels.InteractiveList, r.Text(".session.list.button", l.Button)
		for i, sec := range l.Sections {
			at := fmt.Sprintf(".session.list.sections[%d]", i)
			out := channels.ListSection{Title: r.Text(at+".title", sec.Title)}
			for k, row := range sec.Rows {
				rat := fmt.Sprintf("%s.rows[%d]", at, k)
				out.Rows = append(out.Rows, channels.ListRow{ID: r.Text(rat+".id", row.ID), Title: r.Text(rat+".title", row.Title),
					Description: r.Text(rat+".description", row.Description)})
			}
			in.Sections = append(in.Sections, out)
		}
	}
	msg.Interactive = in
	if _, err := buildInteractive(in); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// texts lists the session's templated fields.
func (s *Session) texts() []channels.Text {
	var ts []channels.Text
	add := func(field, text string) {
		if text != "" {
			ts = append(ts, channels.Text{Field: field, Text: text})
		}
	}
	add(s.textField(), s.Text)
	add(".session.header", s.Header)
	add(".session.footer", s.Footer)
	for i, b := range s.Buttons {
		at := fmt.Sprintf(".session.buttons[%d]", i)
		add(at+".id", b.ID)
		add(at+".title", b.Title)
	}
	if l := s.List; l != nil {
		add(".session.list.button", l.Button)
		for i, sec := range l.Sections {
			at := fmt.Sprintf(".session.list.sections[%d]", i)
			add(at+".title", sec.Title)
			for k, row := range sec.Rows {
				rat := fmt.Sprintf("%s.rows[%d]", at, k)
				add(rat+".id", row.ID)
				add(rat+".title", row.Title)
				add(rat+".description", row.Description)
			}
		}
	}
	if m := s.Media; m != nil {
		add(".session.media.link", m.Link)
		add(".session.media.id", m.ID)
		add(".session.media.caption", m.Caption)
		add(".session.media.filename", m.Filename)
	}
	return ts
}

// describe names the session's form without its text: "session text",
// "session buttons", "session list", "session image".
func (s *Session) describe() string {
	if s.kind() == sessionMedia {
		return "session " + s.Media.Kind
	}
	return "session " + s.kind()
}

// countTrue counts the true values.
func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
