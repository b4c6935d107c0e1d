package journeys

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"

	"github.com/switchbackhq/switchback/channels"
)

// MissingParamsError lists the params a journey needs that a start did not
// give.
type MissingParamsError struct {
	Journey string
	Missing []string
}

func (e *MissingParamsError) Error() string {
	return fmt.Sprintf("%s needs %s: pass --var %s=...", e.Journey, strings.Join(e.Missing, ", "), e.Missing[0])
}

// CheckVars checks vars against the journey's params: each present and
// not empty (a *MissingParamsError lists those that are not), and each of
// its declared type and matching its pattern.
func (j Journey) CheckVars(vars map[string]string) error {
	return checkParams(fmt.Sprintf("journey %q", j.Name), j.Params, vars)
}

// CheckEventVars checks the variables an event carries against the params
// of the handler for it.
func (h Handler) CheckEventVars(journey string, vars map[string]string) error {
	return checkParams(fmt.Sprintf("journey %q event %q", journey, h.Event), h.Params, vars)
}

func checkParams(what string, params []Param, vars map[string]string) error {
	missing, bad := paramProblems(params, vars)
	if len(missing) > 0 {
		return &MissingParamsError{Journey: what, Missing: missing}
	}
	return errors.Join(bad...)
}

// paramProblems returns the params that vars lacks (or has empty), and an
// error for each value of the wrong type or pattern.
func paramProblems(params []Param, vars map[string]string) (missing []string, bad []error) {
	for _, p := range params {
		v, ok := vars[p.Name]
		if !ok || v == "" {
			missing = append(missing, p.Name)
			continue
		}
		if err := p.check(v); err != nil {
			bad = append(bad, err)
		}
	}
	return missing, bad
}

// check checks one value against the param's type and pattern.
func (p Param) check(v string) error {
	switch p.Type {
	case "number":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("param %s: %q is not a number", p.Name, v)
		}
	case "url":
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("param %s: %q is not an absolute http(s) URL", p.Name, v)
		}
		// Such a character would end the attribute or tag the URL is put in.
		if strings.ContainsAny(v, "\"'`<>") || strings.ContainsFunc(v, unicode.IsSpace) {
			return fmt.Errorf("param %s: %q is not a URL: it has a quote, space or angle bracket (percent-encode them)", p.Name, v)
		}
	case "email":
		if _, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "<> ") {
			return fmt.Errorf("param %s: %q is not an email address", p.Name, v)
		}
	}
	if p.Pattern != "" {
		re, err := regexp.Compile("^(?:" + p.Pattern + ")$")
		if err != nil {
			return fmt.Errorf("param %s: bad pattern: %w", p.Name, err)
		}
		if !re.MatchString(v) {
			return fmt.Errorf("param %s: %q does not match %s", p.Name, v, p.Pattern)
		}
	}
	return nil
}

// Render fills the attempt's content with vars and returns the message to
// send to to (a phone number, or an email address for email). A variable
// that vars lacks is an error, never an empty string; so is wa_link
// without opts.BusinessNumber.
func (a Attempt) Render(to string, vars map[string]string, opts RenderOptions) (channels.Message, error) {
	msg := channels.Message{Channel: a.Channel, To: to}
	r := renderer{vars: vars, opts: opts}
	switch a.Channel {
	case channels.Email:
		e := &channels.EmailContent{Subject: r.text("subject", a.Subject), Text: r.text("text", a.Text), HTML: r.html("html", a.HTML)}
		if t := a.Template; t != nil {
			e.TemplateID = t.ID
			if len(t.Data) > 0 {
				e.Data = map[string]string{}
				for _, k := range sortedKeys(t.Data) {
					e.Data[k] = r.text("template.data."+k, t.Data[k])
				}
			}
		}
		msg.Email = e
	case channels.WhatsApp:
		msg.Text = r.text("session", a.Session)
		if t := a.Template; t != nil {
			msg.Template = &channels.Template{Name: t.Name, Language: t.Language, Body: r.all("template.body", t.Body), ButtonURL: r.all("template.button_url", t.ButtonURL)}
			if h := t.Header; h != nil {
				msg.Template.Header = r.header(h)
			}
			for i, b := range t.Buttons {
				tb := channels.TemplateButton{Index: b.Index, Kind: channels.ButtonQuickReply, Payload: r.text(fmt.Sprintf("template.buttons[%d]", i), b.QuickReply)}
				if b.URL != "" {
					tb = channels.TemplateButton{Index: b.Index, Kind: channels.ButtonURL, Text: r.text(fmt.Sprintf("template.buttons[%d]", i), b.URL)}
				}
				msg.Template.Buttons = append(msg.Template.Buttons, tb)
			}
		}
	default:
		msg.Text = r.text("text", a.Text)
	}
	if r.err != nil {
		return channels.Message{}, fmt.Errorf("render %s attempt: %w", a.Channel, r.err)
	}
	return msg, nil
}

// renderer renders text templates and keeps the first error.
type renderer struct {
	vars map[string]string
	opts RenderOptions
	err  error
}

func (r *renderer) text(field, text string) string {
	if r.err != nil || text == "" {
		return ""
	}
	out, err := renderText(text, r.vars, r.opts)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", field, err)
	}
	return out
}

// html renders an HTML template: variables are escaped for where they
// stand (text, attribute, URL), so a variable never adds markup.
func (r *renderer) html(field, text string) string {
	if r.err != nil || text == "" {
		return ""
	}
	var b strings.Builder
	if err := executeHTML(&b, text, r.vars, r.opts); err != nil {
		r.err = fmt.Errorf("%s: %w", field, err)
	}
	return b.String()
}

func (r *renderer) header(h *TemplateHeader) *channels.Header {
	if h.Text != "" {
		return &channels.Header{Text: r.text("template.header.text", h.Text)}
	}
	m := &channels.Media{Kind: channels.MediaImage, Link: r.text("template.header.image", h.Image), Filename: h.Filename}
	switch {
	case h.Document != "":
		m.Kind, m.Link = channels.MediaDocument, r.text("template.header.document", h.Document)
	case h.Video != "":
		m.Kind, m.Link = channels.MediaVideo, r.text("template.header.video", h.Video)
	}
	return &channels.Header{Media: m}
}

func (r *renderer) all(field string, texts []string) []string {
	if texts == nil {
		return nil
	}
	out := make([]string, len(texts))
	for i, s := range texts {
		out[i] = r.text(fmt.Sprintf("%s[%d]", field, i), s)
	}
	return out
}

func renderText(text string, vars map[string]string, opts RenderOptions) (string, error) {
	if text == "" {
		return "", nil
	}
	t, err := template.New("").Option("missingkey=error").Funcs(opts.funcs()).Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// executeHTML renders text as an html/template with vars.
func executeHTML(w io.Writer, text string, vars map[string]string, opts RenderOptions) error {
	t, err := htmltemplate.New("").Option("missingkey=error").Funcs(htmltemplate.FuncMap(opts.funcs())).Parse(text)
	if err != nil {
		return err
	}
	return t.Execute(w, vars)
}

// checkHTML checks that text is an HTML template that can be escaped
// (html/template refuses, say, a variable inside an unclosed tag or a
// script), rendering it with a placeholder for each param.
func checkHTML(text string, params []string) error {
	vars := make(map[string]string, len(params))
	for _, p := range params {
		vars[p] = "x"
	}
	if err := executeHTML(io.Discard, text, vars, placeholderOptions); err != nil {
		return fmt.Errorf("bad html template: %w", err)
	}
	return nil
}

// checkTemplate parses text and checks that every variable it uses is one
// of params.
func checkTemplate(text string, params []string) error {
	t, err := template.New("").Funcs(placeholderOptions.funcs()).Parse(text)
	if err != nil {
		return fmt.Errorf("bad template: %w", err)
	}
	var unknown []string
	walk(t.Root, func(n parse.Node) {
		f, ok := n.(*parse.FieldNode)
		if !ok {
			return
		}
		if name := f.Ident[0]; !slices.Contains(params, name) && !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
	})
	if len(unknown) > 0 {
		return errors.New("uses undeclared params " + strings.Join(unknown, ", ") + " (declare them in params)")
	}
	return nil
}

// walk calls fn for n and each node under it: field references
// ({{.name}}), function names (identifiers), and the nodes that hold them.
func walk(n parse.Node, fn func(parse.Node)) {
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *parse.IfNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	}
}
