package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
)

// svgWriter writes SVG elements; every attribute value and every text is
// escaped, so that names from a journey file cannot make markup.
type svgWriter struct{ b bytes.Buffer }

// attrs writes key="value" pairs; kv alternates keys and values.
func (s *svgWriter) attrs(kv []any) {
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&s.b, " %s=\"", kv[i])
		s.escape(str(kv[i+1]))
		s.b.WriteByte('"')
	}
}

// open starts element tag.
func (s *svgWriter) open(tag string, kv ...any) {
	s.b.WriteString("<" + tag)
	s.attrs(kv)
	s.b.WriteString(">")
}

// close ends element tag.
func (s *svgWriter) close(tag string) { s.b.WriteString("</" + tag + ">\n") }

// empty writes an element without content.
func (s *svgWriter) empty(tag string, kv ...any) {
	s.b.WriteString("<" + tag)
	s.attrs(kv)
	s.b.WriteString("/>\n")
}

// elem writes an element holding text.
func (s *svgWriter) elem(tag, text string, kv ...any) {
	s.open(tag, kv...)
	s.escape(text)
	s.close(tag)
}

func (s *svgWriter) escape(text string) {
	// xml.EscapeText fails only when its writer does; a bytes.Buffer
	// does not.
	_ = xml.EscapeText(&s.b, []byte(text))
}

// str formats an attribute value.
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}
