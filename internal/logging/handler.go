package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
)

// Handler is a slog.Handler that masks phone numbers and email addresses and
// redacts secrets in each record before passing it to the next handler. It
// masks the message and every attribute, those added by With and those
// inside groups at any depth:
//
//   - an attribute or group whose name names a secret (SecretKey) is
//     replaced by "[redacted]", whatever its value, except an empty string;
//     every attribute inside a WithGroup so named is too;
//   - strings, errors and fmt.Stringers are masked as text (Mask); an error
//     or a Stringer is written as its masked text;
//   - a slog.LogValuer is resolved first; slices of strings and of any
//     values and string-keyed maps are masked element by element, map keys
//     by SecretKey;
//   - a bare number (7 to 15 digits, as a string or an integer, optionally
//     "whatsapp:"-prefixed) is masked when the attribute's name says it holds
//     a number: to, from, or a name with phone, msisdn, wa_id, waid,
//     recipient, sender or number in it;
//   - other values (structs, pointers) are written as their JSON form,
//     masked the same way; numbers, booleans, times and durations are kept.
//
// It also keeps ERROR for what needs a person: the Temporal SDK's
// "Activity error." for a send that a provider refused for good, which
// the journey answers by falling back, is passed on at INFO or WARN with
// its reason class (see ReasonPermanent, ReasonTemplate and
// ReasonUnknownOutcome).
type Handler struct {
	next slog.Handler
	// redactAll is set inside a group whose name names a secret.
	redactAll bool
}

// NewHandler returns a Handler that passes masked records to next.
func NewHandler(next slog.Handler) *Handler {
	return &Handler{next: next}
}

// Enabled reports whether the next handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle masks r and passes it to the next handler. The Temporal SDK's
// "Activity error." for a send that a provider refused for good, which the
// journey answers by falling back, is passed on at INFO or WARN with its
// reason class (ReasonClassKey) rather than at ERROR.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	level, class, expected := expectedActivityError(r)
	if !expected {
		level = r.Level
	} else if !h.next.Enabled(ctx, level) {
		return nil
	}
	out := slog.NewRecord(r.Time, level, Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	if expected {
		out.AddAttrs(slog.String(ReasonClassKey, class))
	}
	return h.next.Handle(ctx, out)
}

// WithAttrs returns a Handler whose next handler has attrs, masked.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked), redactAll: h.redactAll}
}

// WithGroup returns a Handler whose next handler opens group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), redactAll: h.redactAll || SecretKey(name)}
}

// attr returns a masked.
func (h *Handler) attr(a slog.Attr) slog.Attr {
	if h.redactAll {
		return redact(a)
	}
	return maskAttr(a)
}

// maskAttr returns a masked, by its key and its value.
func maskAttr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Key != "" && SecretKey(a.Key) {
		return redact(a)
	}
	a.Value = maskValue(a.Key, a.Value)
	return a
}

// redact returns a with its value redacted; an empty string stays empty, to
// tell that a secret is not set.
func redact(a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
		return a
	}
	return slog.String(a.Key, Redacted)
}

// maskValue returns v, the value of an attribute named key, masked.
func maskValue(key string, v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(maskText(key, v.String()))
	case slog.KindInt64:
		if n := v.Int64(); n >= 1_000_000 && phoneKey(key) {
			if s, ok := maskBarePhone(strconv.FormatInt(n, 10)); ok {
				return slog.StringValue(s)
			}
		}
	case slog.KindUint64:
		if n := v.Uint64(); n >= 1_000_000 && phoneKey(key) {
			if s, ok := maskBarePhone(strconv.FormatUint(n, 10)); ok {
				return slog.StringValue(s)
			}
		}
	case slog.KindGroup:
		attrs := v.Group()
		masked := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			masked[i] = maskAttr(a)
		}
		return slog.GroupValue(masked...)
	case slog.KindAny:
		if x := v.Any(); x != nil {
			return slog.AnyValue(maskAny(key, x))
		}
	}
	return v
}

// maskText masks s, the value of an attribute named key.
func maskText(key, s string) string {
	if m, ok := maskBarePhone(s); ok && phoneKey(key) {
		return m
	}
	return Mask(s)
}

// maskAny returns x, the value (or an element of the value) of an attribute
// named key, masked.
func maskAny(key string, x any) any {
	switch x := x.(type) {
	case string:
		return maskText(key, x)
	case bool, float32, float64, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return maskNumber(key, x)
	case error:
		return maskText(key, x.Error())
	case fmt.Stringer:
		return maskText(key, x.String())
	case []byte:
		return maskText(key, string(x))
	case slog.Value:
		return maskValue(key, x.Resolve())
	case slog.Attr:
		return maskAttr(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = maskText(key, s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskAny(key, e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, s := range x {
			if SecretKey(k) && s != "" {
				out[k] = Redacted
			} else {
				out[k] = maskText(k, s)
			}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if SecretKey(k) {
				out[k] = Redacted
			} else {
				out[k] = maskAny(k, e)
			}
		}
		return out
	}
	switch rv := reflect.ValueOf(x); rv.Kind() {
	case reflect.String:
		// A named string type, e.g. a channel name, keeps its type unless
		// masking changes it.
		if m := maskText(key, rv.String()); m != rv.String() {
			return m
		}
		return x
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return maskNumber(key, x)
	}
	return maskJSON(key, x)
}

// maskNumber masks a number in an attribute named like a phone number.
func maskNumber(key string, x any) any {
	if !phoneKey(key) {
		return x
	}
	if s, ok := maskBarePhone(fmt.Sprint(x)); ok {
		return s
	}
	return x
}

// maskJSON masks a value of another type through its JSON form, or its
// fmt form when it has none.
func maskJSON(key string, x any) any {
	data, err := json.Marshal(x)
	if err != nil {
		return maskText(key, fmt.Sprintf("%+v", x))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return maskText(key, string(data))
	}
	switch generic.(type) {
	case map[string]any, []any:
		return maskAny(key, generic)
	case nil:
		return nil
	}
	// A value that marshals to a JSON scalar keeps its own form unless
	// masking changes its text.
	text := fmt.Sprint(generic)
	if m := maskText(key, text); m != text {
		return m
	}
	return x
}
