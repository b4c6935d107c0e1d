package journeys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/switchbackhq/switchback/channels"
)

// MissingParamsError lists the params a journey needs that a start did not
// give.
type MissingParamsError struct {
	Journey string
	Missing []string
}

func (e *MissingParamsError) Error() string {
	return fmt.Sprintf("journey %q needs %s: pass --var %s=...", e.Journey, strings.Join(e.Missing, ", "), e.Missing[0])
}

// CheckVars reports the journey's declared params that vars lacks or leaves
// empty, as a *MissingParamsError.
func (j Journey) CheckVars(vars map[string]string) error {
	var missing []string
	for _, p := range j.Params {
		if vars[p] == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return &MissingParamsError{Journey: j.Name, Missing: missing}
	}
	return nil
}

// Render fills the attempt's content with vars and returns the message to
// send to. A variable that vars lacks is an error, never an empty string.
func (a Attempt) Render(to string, vars map[string]string) (channels.Message, error) {
	msg := channels.Message{Channel: a.Channel, To: to}
	var err error
	if msg.Text, err = renderText(a.Text, vars); err != nil {
		return channels.Message{}, fmt.Errorf("render %s text: %w", a.Channel, err)
	}
	if a.Template != nil {
		t := &channels.Template{Name: a.Template.Name, Language: a.Template.Language}
		if t.Body, err = renderAll(a.Template.Body, vars); err != nil {
			return channels.Message{}, fmt.Errorf("render template %q body: %w", t.Name, err)
		}
		if t.ButtonURL, err = renderAll(a.Template.ButtonURL, vars); err != nil {
			return channels.Message{}, fmt.Errorf("render template %q button_url: %w", t.Name, err)
		}
		msg.Template = t
	}
	return msg, nil
}

func renderAll(texts []string, vars map[string]string) ([]string, error) {
	if texts == nil {
		return nil, nil
	}
	out := make([]string, len(texts))
	for i, s := range texts {
		r, err := renderText(s, vars)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func renderText(text string, vars map[string]string) (string, error) {
	if text == "" {
		return "", nil
	}
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkTemplate parses text and checks that every variable it uses is one
// of params.
func checkTemplate(text string, params []string) error {
	t, err := template.New("").Parse(text)
	if err != nil {
		return fmt.Errorf("bad template: %w", err)
	}
	var unknown []string
	walk(t.Root, func(n *parse.FieldNode) {
		if name := n.Ident[0]; !slices.Contains(params, name) && !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
	})
	if len(unknown) > 0 {
		return errors.New("uses undeclared params " + strings.Join(unknown, ", ") + " (declare them in params)")
	}
	return nil
}

// walk calls fn for each field reference ({{.name}}) under n.
func walk(n parse.Node, fn func(*parse.FieldNode)) {
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
	case *parse.FieldNode:
		fn(n)
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
