package journeys

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchbackhq/switchback/channels"
)

//go:embed *.yaml
var builtinFS embed.FS

// Builtin returns the built-in journey with the given name.
func Builtin(name string) (Journey, error) {
	data, err := builtinFS.ReadFile(name + ".yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return Journey{}, fmt.Errorf("unknown journey %q (built-in journeys: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	if err != nil {
		return Journey{}, fmt.Errorf("read built-in journey %q: %w", name, err)
	}
	return Parse(name+".yaml", data)
}

// BuiltinNames lists the built-in journeys, sorted.
func BuiltinNames() []string {
	entries, _ := builtinFS.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadFile reads and validates a journey file.
func LoadFile(file string) (Journey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Journey{}, fmt.Errorf("load journey: %w", err)
	}
	return Parse(file, data)
}

// Parse decodes and validates one journey written in YAML. file names the
// source in errors. Unknown fields are errors.
func Parse(file string, data []byte) (Journey, error) {
	var j Journey
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&j); err != nil {
		return Journey{}, fmt.Errorf("%s: %w", file, err)
	}
	if err := j.Validate(); err != nil {
		var ve ValidationErrors
		if errors.As(err, &ve) {
			for i := range ve {
				ve[i].File = file
			}
		}
		return Journey{}, err
	}
	return j, nil
}

// ValidationError is one problem with a journey definition, located by
// file, step and field.
type ValidationError struct {
	File  string
	Step  string // step id, or "steps[2]" when it has none
	Field string // e.g. "attempts[0].within"
	Msg   string
}

func (e ValidationError) Error() string {
	var where []string
	if e.File != "" {
		where = append(where, e.File)
	}
	if e.Step != "" {
		where = append(where, "step "+e.Step)
	}
	if e.Field != "" {
		where = append(where, e.Field)
	}
	return strings.Join(where, ": ") + ": " + e.Msg
}

// ValidationErrors is every problem found in one journey.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Validate checks that j can run: a name, a known purpose, at least one
// step, and for every attempt a known channel, content that channel can
// carry, a known awaited status, and templates that name only declared
// params.
func (j Journey) Validate() error {
	var errs ValidationErrors
	add := func(step, field, format string, args ...any) {
		errs = append(errs, ValidationError{Step: step, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if j.Name == "" {
		add("", "name", "is required")
	}
	switch j.Purpose {
	case Authentication, Utility, Marketing:
	default:
		add("", "purpose", "must be authentication, utility or marketing, not %q", j.Purpose)
	}
	if len(j.Steps) == 0 {
		add("", "steps", "at least one step is required")
	}
	seen := map[string]bool{}
	for i, s := range j.Steps {
		id := fmt.Sprintf("steps[%d]", i)
		if s.Send == nil {
			add(id, "", "has no kind (send)")
			continue
		}
		if s.Send.ID != "" {
			id = s.Send.ID
			if seen[id] {
				add(id, "id", "is used by an earlier step")
			}
			seen[id] = true
		}
		if len(s.Send.Attempts) == 0 {
			add(id, "attempts", "at least one attempt is required")
		}
		for k, a := range s.Send.Attempts {
			field := fmt.Sprintf("attempts[%d]", k)
			for _, msg := range a.problems(j.Params) {
				add(id, field+msg.field, "%s", msg.text)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

type problem struct{ field, text string }

func (a Attempt) problems(params []string) []problem {
	var ps []problem
	switch a.Channel {
	case channels.WhatsApp:
		if (a.Template == nil) == (a.Text == "") {
			ps = append(ps, problem{"", "a whatsapp attempt needs a template or text, not both"})
		}
		if a.Template != nil {
			if a.Template.Name == "" {
				ps = append(ps, problem{".template.name", "is required"})
			}
			if a.Template.Language == "" {
				ps = append(ps, problem{".template.language", "is required (e.g. en_US)"})
			}
		}
	case channels.SMS:
		if a.Text == "" {
			ps = append(ps, problem{".text", "an sms attempt needs text"})
		}
		if a.Template != nil {
			ps = append(ps, problem{".template", "sms sends text only"})
		}
	case channels.Email:
		ps = append(ps, problem{".channel", "email is not supported yet"})
	default:
		ps = append(ps, problem{".channel", fmt.Sprintf("unknown channel %q (whatsapp, sms or email)", a.Channel)})
	}
	if a.Await != "" && (!a.Await.Valid() || a.Await == channels.StatusFailed) {
		ps = append(ps, problem{".await", fmt.Sprintf("unknown status %q (accepted, sent, delivered or read)", a.Await)})
	}
	for _, t := range a.texts() {
		if err := checkTemplate(t.text, params); err != nil {
			ps = append(ps, problem{t.field, err.Error()})
		}
	}
	return ps
}

type fieldText struct{ field, text string }

// texts lists the attempt's text templates with the fields they come from.
func (a Attempt) texts() []fieldText {
	var ts []fieldText
	if a.Text != "" {
		ts = append(ts, fieldText{".text", a.Text})
	}
	if a.Template != nil {
		for i, s := range a.Template.Body {
			ts = append(ts, fieldText{fmt.Sprintf(".template.body[%d]", i), s})
		}
		for i, s := range a.Template.ButtonURL {
			ts = append(ts, fieldText{fmt.Sprintf(".template.button_url[%d]", i), s})
		}
	}
	return ts
}
