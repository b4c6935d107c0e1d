package channels

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Fields are an attempt's own fields, as a journey wrote them: everything
// of an attempt but its channel, await and within, decoded from YAML or
// JSON. The attempt's driver parses them (Driver.Parse).
type Fields map[string]any

// Content is an attempt's content on one channel, parsed from its Fields
// by the channel's driver.
type Content interface {
	// Texts lists the content's templated fields, so that a journey's
	// validation can check that each uses only declared params.
	Texts() []Text
	// Render fills msg's channel content, each templated field rendered
	// by r. It is called from workflow code: it must be deterministic.
	Render(r Renderer, msg *Message) error
	// Describe says what the content sends, without any of its text
	// (which may hold a code): "template order_update", "text".
	Describe() string
}

// Text is one templated field of an attempt's content.
type Text struct {
	// Field is the field's path under the attempt: ".text",
	// ".template.body[0]".
	Field string
	// Text is the template, over the journey's variables.
	Text string
	// HTML marks an html/template (variables escaped for where they
	// stand); otherwise a text/template.
	HTML bool
}

// Renderer renders an attempt's templated fields with a journey's
// variables. It keeps its first error, which Render's caller reports.
type Renderer interface {
	// Text renders a text/template; field names it in an error.
	Text(field, text string) string
	// HTML renders an html/template; field names it in an error.
	HTML(field, text string) string
}

// Windowed is content with a free-form session part, which WhatsApp takes
// only inside the 24-hour customer-service window, and perhaps a template
// to send instead when the window is closed.
type Windowed interface {
	// HasSession reports whether the content has a session part.
	HasSession() bool
	// HasTemplate reports whether the content has a template.
	HasTemplate() bool
}

// FieldError is one problem of an attempt's fields.
type FieldError struct {
	// Field is the field's path under the attempt (".template.name"), or
	// "" for the attempt as a whole.
	Field string
	Msg   string
	// Unknown marks a field the channel's attempts do not have.
	Unknown bool
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return strings.TrimPrefix(e.Field, ".") + ": " + e.Msg
}

// FieldErrors are every problem a driver found in an attempt's fields.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Err returns es as an error, or nil when it holds none.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Add appends a problem of field.
func (es *FieldErrors) Add(field, format string, args ...any) {
	*es = append(*es, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Decode decodes f into v, a pointer to a driver's spec struct with json
// tags, strictly: a field v does not have, or a value of the wrong type,
// is a FieldError naming the field.
func (f Fields) Decode(v any) error {
	var errs FieldErrors
	unknownFields(reflect.TypeOf(v), map[string]any(f), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	b, err := json.Marshal(f)
	if err != nil {
		return FieldErrors{{Msg: fmt.Sprintf("fields are not JSON-shaped: %v", err)}}
	}
	var te *json.UnmarshalTypeError
	switch err := json.Unmarshal(b, v); {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return FieldErrors{{Field: "." + te.Field, Msg: fmt.Sprintf("want %s, not %s", kindOf(te.Type.Kind()), te.Value)}}
	default:
		return FieldErrors{{Msg: err.Error()}}
	}
}

// unknownFields adds an error for each key of m, and of the mappings and
// lists under it, that the struct type t (or what t points to) lacks.
func unknownFields(t reflect.Type, v any, path string, errs *FieldErrors) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return
		}
		known := map[string]reflect.Type{}
		for i := range t.NumField() {
			if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				known[name] = t.Field(i).Type
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			ft, ok := known[k]
			if !ok {
				*errs = append(*errs, FieldError{Field: path + "." + k, Msg: "is not a field of this channel's attempts", Unknown: true})
				continue
			}
			unknownFields(ft, v[k], path+"."+k, errs)
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return
		}
		for i, e := range v {
			unknownFields(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

// kindOf names a Go kind for a journey's author.
func kindOf(k reflect.Kind) string {
	switch k {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "a mapping"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// AllowsAwait reports whether an attempt on d may await status s.
func AllowsAwait(d Driver, s Status) bool { return slices.Contains(d.Awaits(), s) }

// ReceiptAwaits returns the statuses an attempt may await on a channel
// whose provider reports sent, delivered and read.
func ReceiptAwaits() []Status {
	return []Status{StatusAccepted, StatusSent, StatusDelivered, StatusRead}
}
