package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// decode reads r's body, a single JSON object, into v. Unknown fields,
// values of the wrong type, trailing data, a body over limit bytes and a
// content type other than application/json are errors that name what is
// wrong.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) *Error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		if ct == "" {
			ct = "none"
		}
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"the body must be JSON sent with Content-Type: application/json (got %s)", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One object, nothing after it.
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		if err == nil {
			return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body holds more than one JSON value")
		}
	}
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body must be a JSON object, not %s", wrongType.Value)
		}
		return errorf(http.StatusBadRequest, CodeInvalidField, "field %s holds %s where %s is expected",
			wrongType.Field, article(wrongType.Value), typeName(wrongType.Type.Kind().String()))
	}
	// encoding/json reports an unknown field only in its message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errorf(http.StatusBadRequest, CodeUnknownField, "unknown field %s", name)
	}
	return errorf(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON: %v", err)
}

// article puts "a" or "an" before a JSON type name.
func article(name string) string {
	if strings.ContainsAny(name[:1], "aeiou") {
		return "an " + name
	}
	return "a " + name
}

// typeName names a Go kind as JSON calls it.
func typeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	}
	return fmt.Sprintf("a %s", kind)
}
