package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/api"
)

// doc is the OpenAPI document, decoded.
type doc map[string]any

func loadDoc(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(api.OpenAPI(), &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

// resolve follows a "$ref" to "#/components/...".
func (d doc) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = map[string]any(d)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		next, _ := cur.(map[string]any)
		cur = next[part]
	}
	return d.resolve(cur)
}

// operation returns the operation of method on the OpenAPI path, or nil.
func (d doc) operation(method, path string) map[string]any {
	paths, _ := d["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// operations lists "METHOD /path" of every documented operation, sorted.
func (d doc) operations() []string {
	var ops []string
	paths, _ := d["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// checkResponse reports how an answer of the operation departs from the
// document: an undocumented status, a body that is not what the status's
// schema requires.
func (d doc) checkResponse(method, path string, status int, body []byte) []string {
	op := d.operation(method, path)
	if op == nil {
		return []string{fmt.Sprintf("%s %s is not documented", method, path)}
	}
	responses, _ := op["responses"].(map[string]any)
	resp := d.resolve(responses[strconv.Itoa(status)])
	if resp == nil {
		return []string{fmt.Sprintf("%s %s answered %d, which is not documented", method, path, status)}
	}
	content, _ := resp["content"].(map[string]any)
	media := d.resolve(content["application/json"])
	if media == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("%s %s %d: body is not JSON: %v", method, path, status, err)}
	}
	return d.checkValue(media["schema"], v, "body")
}

// checkValue checks v against the parts of schema the document uses:
// type, required, properties, additionalProperties, items, enum.
func (d doc) checkValue(schemaRef any, v any, at string) []string {
	s := d.resolve(schemaRef)
	if s == nil {
		return nil
	}
	var errs []string
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want an object, got %T", at, v))
		}
		for _, r := range s["required"].([]any) {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required property %s is missing", at, r))
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range m {
			ps, ok := props[k]
			if !ok {
				ps = s["additionalProperties"]
				if ps == false {
					errs = append(errs, fmt.Sprintf("%s: undocumented property %s", at, k))
					continue
				}
			}
			errs = append(errs, d.checkValue(ps, pv, at+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want an array, got %T", at, v))
		}
		for i, item := range a {
			errs = append(errs, d.checkValue(s["items"], item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a string, got %T", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a boolean, got %T", at, v))
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			errs = append(errs, fmt.Sprintf("%s: want an integer, got %v", at, v))
		}
	}
	return errs
}

// conformance wraps an API handler and checks every answer of a routed
// request against the OpenAPI document.
type conformance struct {
	t   *testing.T
	doc doc
	h   http.Handler

	mu      sync.Mutex
	checked map[string]bool // "METHOD /path STATUS" answered and checked
}

func newConformance(t *testing.T, h http.Handler) *conformance {
	return &conformance{t: t, doc: loadDoc(t), h: h, checked: map[string]bool{}}
}

func (c *conformance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	w.Write(body)

	// ServeMux sets r.Pattern when a route matched.
	method, path, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		return
	}
	for _, e := range c.doc.checkResponse(method, path, res.StatusCode, body) {
		c.t.Errorf("openapi.json: %s", e)
	}
	c.mu.Lock()
	c.checked[fmt.Sprintf("%s %s %d", method, path, res.StatusCode)] = true
	c.mu.Unlock()
}

// seen lists the "METHOD /path STATUS" answers checked so far, sorted.
func (c *conformance) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s []string
	for k := range c.checked {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// TestOpenAPIMatchesRoutes checks that the document and the handler name
// the same operations: each documented operation is routed (not answered
// by the catch-all 404/405) and each route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d := loadDoc(t)
	if d["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", d["openapi"])
	}
	ops := d.operations()
	slices.Sort(ops)
	patterns := api.Patterns()
	slices.Sort(patterns)
	if !slices.Equal(ops, patterns) {
		t.Errorf("documented operations\n  %v\nregistered routes\n  %v", ops, patterns)
	}

	h := api.New(api.Options{Client: unreachableClient(t), Exempt: func(*http.Request) bool { return true }, Timeout: 50 * time.Millisecond})
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		r := httptest.NewRequest(method, strings.ReplaceAll(path, "{id}", "some-id"), strings.NewReader("not json"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if code := errorCode(t, w.Body.Bytes()); code == api.CodeNotFound || code == api.CodeMethodNotAllowed {
			t.Errorf("%s: answered %d %s: not routed", op, w.Code, code)
		}
	}
	// The catch-all answers what is not routed, in JSON.
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1/nothing", http.StatusNotFound, api.CodeNotFound},
		{"PUT", "/v1/journeys/x", http.StatusMethodNotAllowed, api.CodeMethodNotAllowed},
		{"GET", "/v1/journeys", http.StatusMethodNotAllowed, api.CodeMethodNotAllowed},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || errorCode(t, w.Body.Bytes()) != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, w.Code, w.Body, tc.status, tc.code)
		}
	}
}

// TestOpenAPIRefs checks that every $ref of the document resolves.
func TestOpenAPIRefs(t *testing.T) {
	d := loadDoc(t)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs = append(refs, ref)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(map[string]any(d))
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, ref := range refs {
		if d.resolve(map[string]any{"$ref": ref}) == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
}

// TestOpenAPIServed checks GET /v1/openapi.json: no token needed, the
// embedded document as JSON.
func TestOpenAPIServed(t *testing.T) {
	h := api.New(api.Options{Token: "secret"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if !bytes.Equal(w.Body.Bytes(), api.OpenAPI()) {
		t.Error("the served document differs from api.OpenAPI()")
	}
}

// TestCheckValue makes sure the schema check can fail.
func TestCheckValue(t *testing.T) {
	d := loadDoc(t)
	tests := []struct {
		body string
		errs int
	}{
		{`{"id":"a","run_id":"b","created":true}`, 0},
		{`{"id":"a","created":true}`, 1},
		{`{"id":1,"run_id":"b","created":"yes"}`, 2},
	}
	for _, tc := range tests {
		if errs := d.checkResponse("POST", "/v1/journeys", 201, []byte(tc.body)); len(errs) != tc.errs {
			t.Errorf("%s: %d errors %v, want %d", tc.body, len(errs), errs, tc.errs)
		}
	}
	if errs := d.checkResponse("POST", "/v1/journeys", 418, []byte(`{}`)); len(errs) != 1 {
		t.Errorf("an undocumented status passed: %v", errs)
	}
}

// errorCode returns the code of a JSON error body, or "".
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e api.ErrorResponse
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Code
}
