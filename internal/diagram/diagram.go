// Package diagram draws a journey definition as an SVG picture: a header
// with its purpose, params, expiry, quiet hours, goals and verification;
// then its steps from top to bottom, each send step with its fallback
// chain left to right (channel, what it sends, the status it awaits and
// within how long), waits, branches with their arms, exits; then the
// handlers of its events, each with its own steps.
//
// The picture is the same for the same journey: nothing is ordered by a
// map. Every text from the journey is escaped. It is styled with
// presentation attributes only (no <style>, no script), so that it reads
// the same as a file and inline in a page whose policy allows no inline
// style.
package diagram

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// Options configure a picture.
type Options struct {
	// Channels is the channel registry: its order gives each channel its
	// colour, and its drivers say what each attempt sends. A channel
	// missing from it is drawn grey.
	Channels *channels.Registry
}

// Layout, in pixels.
const (
	margin    = 16
	gutter    = 48 // room left of the steps for the lines of branches
	labelW    = 168
	contentDX = labelW + 28
	stepGap   = 26
	indentDX  = 28
	attemptW  = 196
	attemptH  = 84
	attemptDX = attemptW + 64
	lineH     = 18
	charW     = 7 // a generous width of one character at 12px
	minWidth  = 720
)

// Colours.
const (
	ink       = "#1d2330"
	muted     = "#687085"
	line      = "#9aa3b5"
	labelFill = "#eef0f4"
	badColour = "#c0392b"
	grey      = "#8a93a6"
)

// palette colours channels by their place in Options.Channels.
var palette = []string{"#1f8a4c", "#3b6fd4", "#b7791f", "#8e44ad", "#16a085", "#d35400"}

// SVG returns the picture of j.
func SVG(j journeys.Journey, opts Options) []byte {
	d := &drawer{opts: opts, width: minWidth}
	d.header(j)
	d.pill(margin+gutter, "start", "start")
	d.steps(j.Steps, margin+gutter)
	d.pill(margin+gutter, "end", endText(j))
	d.handlers(j)
	return d.finish(j.Name)
}

// drawer lays out one picture from top to bottom; y is where the next
// row goes, width the widest row so far.
type drawer struct {
	opts  Options
	out   svgWriter
	y     int
	width int
}

// grow makes the picture at least x wide.
func (d *drawer) grow(x int) { d.width = max(d.width, x+margin) }

// finish wraps what was drawn in the svg element.
func (d *drawer) finish(name string) []byte {
	var s svgWriter
	h := d.y + margin
	s.open("svg", "xmlns", "http://www.w3.org/2000/svg", "width", d.width, "height", h,
		"viewBox", fmt.Sprintf("0 0 %d %d", d.width, h), "role", "img", "aria-label", "Journey "+name,
		"font-family", "system-ui, -apple-system, Segoe UI, sans-serif", "font-size", 12, "class", "journey-diagram")
	s.b.WriteString("\n")
	s.elem("title", "Journey "+name)
	s.open("defs")
	s.open("marker", "id", "arrow", "viewBox", "0 0 10 10", "refX", 9, "refY", 5, "markerWidth", 7, "markerHeight", 7, "orient", "auto-start-reverse")
	s.empty("path", "d", "M 0 0 L 10 5 L 0 10 z", "fill", line)
	s.close("marker")
	s.close("defs")
	s.empty("rect", "x", 0, "y", 0, "width", d.width, "height", h, "fill", "#ffffff")
	s.b.Write(d.out.b.Bytes())
	s.close("svg")
	return s.b.Bytes()
}

// header writes the journey's name and what holds for all of it.
func (d *drawer) header(j journeys.Journey) {
	o := &d.out
	o.open("g", "class", "header")
	d.y = margin + 18
	o.elem("text", j.Name, "x", margin, "y", d.y, "font-size", 18, "font-weight", "bold", "fill", ink, "class", "name")
	lines := headerLines(j)
	for _, l := range lines {
		d.y += lineH
		o.elem("text", l.text, "x", margin, "y", d.y, "fill", muted, "class", l.class)
		d.grow(margin + len(l.text)*charW)
	}
	o.close("g")
	d.y += 24
}

// headerLine is one line of the header, with its class.
type headerLine struct{ class, text string }

// headerLines describes the journey as a whole.
func headerLines(j journeys.Journey) []headerLine {
	about := "purpose: " + string(j.Purpose)
	if len(j.Params) > 0 {
		about += " · params: " + paramNames(j.Params)
	}
	expire := "expires: never (no expire)"
	if j.Expire > 0 {
		expire = "expires: " + FormatDuration(time.Duration(j.Expire)) + " after its start"
	}
	lines := []headerLine{{"purpose", about}, {"expire", expire}}
	if q := j.QuietHours; q != nil {
		tz := q.TimeZone
		if tz == "" {
			tz = "UTC"
		}
		lines = append(lines, headerLine{"quiet-hours", fmt.Sprintf("quiet hours: %s–%s (the customer's time zone, else %s): marketing sends wait", q.Start, q.End, tz)})
	}
	if len(j.Goal) > 0 {
		lines = append(lines, headerLine{"goal", "goal: " + strings.Join(j.Goal, ", ") + " → converted, at any point"})
	}
	if v := j.Verify; v != nil {
		checks := v.MaxAttempts
		if checks == 0 {
			checks = 5
		}
		lines = append(lines, headerLine{"verify", fmt.Sprintf("verify: the code in %s, at most %d checks", v.Param, checks)})
	}
	return lines
}

// endText says what follows the last step.
func endText(j journeys.Journey) string {
	switch {
	case j.Verify != nil:
		return "end of steps: awaits verify"
	case len(j.On) > 0:
		return "end of steps: awaits events"
	}
	return "end: completed"
}

// pill writes a start or end node, joined to the row above it.
func (d *drawer) pill(x int, class, text string) {
	o := &d.out
	if class != "start" {
		d.arrowDown(x)
	}
	w := max(labelW, len([]rune(text))*charW+24)
	o.open("g", "class", class)
	o.empty("rect", "x", x, "y", d.y, "width", w, "height", 26, "rx", 13, "fill", ink)
	o.elem("text", text, "x", x+w/2, "y", d.y+17, "text-anchor", "middle", "fill", "#ffffff")
	o.close("g")
	d.y += 26
}

// arrowDown joins the row above to the next one, at x.
func (d *drawer) arrowDown(x int) {
	d.out.empty("line", "x1", x+labelW/2, "y1", d.y, "x2", x+labelW/2, "y2", d.y+stepGap-2, "stroke", line, "stroke-width", 1.5, "marker-end", "url(#arrow)")
	d.y += stepGap
}

// handlers writes the event handlers, each with its steps.
func (d *drawer) handlers(j journeys.Journey) {
	if len(j.On) == 0 {
		return
	}
	o := &d.out
	d.y += 34
	o.elem("text", "on events (each runs once; in order unless any time)", "x", margin, "y", d.y, "font-size", 14, "font-weight", "bold", "fill", ink, "class", "handlers")
	x := margin + gutter + indentDX
	for _, h := range j.On {
		d.y += 16
		o.open("g", "class", "handler", "data-event", h.Event)
		text := "on " + h.Event + handlerNotes(h)
		o.empty("rect", "x", margin, "y", d.y, "width", max(len(text)*charW+24, labelW+gutter), "height", 26, "rx", 4, "fill", "#e3e8f4")
		o.elem("text", text, "x", margin+10, "y", d.y+17, "font-weight", "bold", "fill", ink)
		d.grow(margin + len(text)*charW + 24)
		d.y += 26
		d.steps(h.Steps, x)
		if h.End {
			d.pill(x, "end", "end of the journey")
		}
		o.close("g")
	}
}

// handlerNotes says what a handler needs and how it runs.
func handlerNotes(h journeys.Handler) string {
	var notes []string
	if len(h.Params) > 0 {
		notes = append(notes, "params: "+paramNames(h.Params))
	}
	if h.AnyTime {
		notes = append(notes, "any time")
	}
	if h.End {
		notes = append(notes, "ends the journey")
	}
	if len(notes) == 0 {
		return ""
	}
	return " · " + strings.Join(notes, " · ")
}

// paramNames lists params by name.
func paramNames(ps []journeys.Param) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// colour returns ch's colour.
func (d *drawer) colour(ch channels.Channel) string {
	for i, c := range d.opts.Channels.Channels("") {
		if c == ch {
			return palette[i%len(palette)]
		}
	}
	return grey
}
