package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgOf parses out as SVG and returns the ids of its step groups.
func svgOf(t *testing.T, out string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(out))
	var ids []string
	root := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("graph output is not well-formed: %v\n%s", err, out)
			}
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = el.Name.Local
		}
		for _, a := range el.Attr {
			if a.Name.Local == "data-step" {
				ids = append(ids, a.Value)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("graph output starts with <%s>, want <svg>", root)
	}
	return ids
}

func TestGraph(t *testing.T) {
	code, out, errOut := cli(t, nil, "graph", "otp")
	if code != 0 || errOut != "" {
		t.Fatalf("graph otp = %d, stderr %q", code, errOut)
	}
	if ids := svgOf(t, out); strings.Join(ids, " ") != "code" {
		t.Errorf("graph otp draws steps %q, want code", ids)
	}
	for _, want := range []string{"whatsapp", "sms", "email", "within 30s"} {
		if !strings.Contains(out, want) {
			t.Errorf("graph otp lacks %q", want)
		}
	}

	code, out, errOut = cli(t, nil, "graph", "nope")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown journey "nope"`) || !strings.Contains(errOut, "abandoned_cart, order_update, otp") {
		t.Errorf("graph nope = %d, stdout %q, stderr %q; want 2 naming the built-in journeys", code, out, errOut)
	}
	if code, _, errOut = cli(t, nil, "graph"); code != 2 || !strings.Contains(errOut, "name one built-in journey") {
		t.Errorf("graph without a journey = %d %q", code, errOut)
	}
}

func TestGraphFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hello.yaml")
	spec := "name: hello\npurpose: utility\nsteps:\n  - wait: {id: pause, duration: 5m}\n  - send: {id: hi, attempts: [{channel: sms, text: hi}]}\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, nil, "graph", "--file", file)
	if code != 0 {
		t.Fatalf("graph --file = %d %q", code, errOut)
	}
	if ids := svgOf(t, out); strings.Join(ids, " ") != "pause hi" {
		t.Errorf("graph --file draws steps %q, want pause hi", ids)
	}
	if code, _, errOut = cli(t, nil, "graph", "otp", "--file", file); code != 2 || !strings.Contains(errOut, `defines journey "hello", not "otp"`) {
		t.Errorf("graph otp --file hello.yaml = %d %q, want 2", code, errOut)
	}
}
