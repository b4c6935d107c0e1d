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

// Content parses the attempt's fields with its channel's driver in reg.
func (a Attempt) Content(reg *channels.Registry) (channels.Driver, channels.Content, error) {
	d, ok := reg.Lookup(a.Channel)
	if !ok {
		return nil, nil, fmt.Errorf("unknown channel %q (%s)", a.Channel, channelList(reg))
	}
	c, err := d.Parse(a.Fields)
	if err != nil {
		return nil, nil, fmt.Errorf("%s attempt: %w", a.Channel, err)
	}
	return d, c, nil
}

// channelList names the channels of reg, for an error.
func channelList(reg *channels.Registry) string { return orList(reg.Channels("")) }

// orList joins names with commas and a last "or".
func orList[S ~string](ss []S) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Render fills the attempt's content with vars and returns the message to
// send to to (a phone number, or an email address for email; empty for a
// channel whose address is not one). A variable that vars lacks is an
// error, never an empty string; so is wa_link without opts.BusinessNumber.
// It runs in workflow code, and is deterministic.
func (a Attempt) Render(to string, vars map[string]string, opts RenderOptions) (channels.Message, error) {
	_, c, err := a.Content(opts.Channels)
	if err != nil {
		return channels.Message{}, err
	}
	msg := channels.Message{Channel: a.Channel, To: to}
	r := renderer{vars: vars, opts: opts}
	err = c.Render(&r, &msg)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return channels.Message{}, fmt.Errorf("render %s attempt: %w", a.Channel, err)
	}
	return msg, nil
}

// renderer renders text templates and keeps the first error: a
// channels.Renderer.
type renderer struct {
	vars map[string]string
	opts RenderOptions
	err  error
}

// Text renders a text/template.
func (r *renderer) Text(field, text string) string {
	if r.err != nil || text == "" {
		return ""
	}
	out, err := renderText(text, r.vars, r.opts)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", strings.TrimPrefix(field, "."), err)
	}
	return out
}

// HTML renders an HTML template: variables are escaped for where they
// stand (text, attribute, URL), so a variable never adds markup.
func (r *renderer) HTML(field, text string) string {
	if r.err != nil || text == "" {
		return ""
	}
	var b strings.Builder
	if err := executeHTML(&b, text, r.vars, r.opts); err != nil {
		r.err = fmt.Errorf("%s: %w", strings.TrimPrefix(field, "."), err)
	}
	return b.String()
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
