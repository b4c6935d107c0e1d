package console

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
)

// stepIDs returns the data-step of every element of the first svg in
// page, failing when that svg is not well-formed.
func stepIDs(t *testing.T, page string) []string {
	t.Helper()
	start, end := strings.Index(page, "<svg"), strings.LastIndex(page, "</svg>")
	if start < 0 || end < start {
		t.Fatalf("no svg in the page:\n%s", page)
	}
	dec := xml.NewDecoder(strings.NewReader(page[start : end+len("</svg>")]))
	var ids []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			t.Fatalf("the page's svg is not well-formed: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "data-step" {
					ids = append(ids, a.Value)
				}
			}
		}
	}
}

func TestDefinitionsPages(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, Channels: threeChannels()})
	if w := tc.do(http.MethodGet, "/console/definitions/otp", nil, nil, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/login") {
		t.Fatalf("a diagram without login = %d to %q, want the login page", w.Code, w.Header().Get("Location"))
	}
	cookie := []*http.Cookie{tc.login(t)}

	w := tc.do(http.MethodGet, "/console/definitions", nil, cookie, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "no registry of journey files") {
		t.Fatalf("definitions = %d, want 200 saying there is no registry of journey files:\n%s", w.Code, body)
	}
	for _, name := range journeys.BuiltinNames() {
		if !strings.Contains(body, `href="/console/definitions/`+name+`"`) {
			t.Errorf("the definitions page does not link %s", name)
		}
	}
	if !strings.Contains(body, "<td>whatsapp, email</td><td>72h (3d)</td>") {
		t.Errorf("abandoned_cart's channels are not listed in the registry's order:\n%s", body)
	}

	cart, err := journeys.Builtin("abandoned_cart", threeChannels())
	if err != nil {
		t.Fatal(err)
	}
	w = tc.do(http.MethodGet, "/console/definitions/abandoned_cart", nil, cookie, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("abandoned_cart's diagram = %d:\n%s", w.Code, w.Body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "script") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the diagram page's policy %q allows more than it should", csp)
	}
	var want []string
	for _, s := range cart.Steps {
		want = append(want, s.ID())
	}
	if got := stepIDs(t, w.Body.String()); !slices.Equal(got, want) {
		t.Errorf("the page draws steps %q, want %q", got, want)
	}

	w = tc.do(http.MethodGet, "/console/definitions/abandoned_cart.svg", nil, cookie, nil)
	same := diagram.SVG(cart, diagram.Options{Channels: threeChannels()})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/svg+xml" || !bytes.Equal(w.Body.Bytes(), same) {
		t.Errorf("abandoned_cart.svg = %d %s, want the diagram package's picture", w.Code, w.Header().Get("Content-Type"))
	}

	for _, name := range []string{"nope", "nope.svg", "..%2Fotp"} {
		w = tc.do(http.MethodGet, "/console/definitions/"+name, nil, cookie, nil)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "abandoned_cart, order_update, otp") {
			t.Errorf("definitions/%s = %d, want 404 naming the built-in journeys:\n%s", name, w.Code, w.Body)
		}
	}
}
