package diagram

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/journeys"
)

// Row heights, by kind of step.
const (
	sendH   = attemptH
	waitH   = 44
	branchH = 52
	exitH   = 40
)

// jump is an arm of a branch, drawn once every row of its list is placed.
type jump struct {
	fromY       int
	arm, target string
}

// steps writes a list of steps at x, one row each, and the lines from
// each branch to the steps its arms name.
func (d *drawer) steps(steps []journeys.Step, x int) {
	// mid is each step's middle, by id: a lookup, never iterated.
	mid := map[string]int{}
	var jumps []jump
	for _, s := range steps {
		d.arrowDown(x)
		top := d.y
		h := d.step(s, x)
		mid[s.ID()] = top + h/2
		if b := s.Branch; b != nil {
			jumps = append(jumps, jump{top + h/2, "then", b.Then})
			if b.Else != "" {
				jumps = append(jumps, jump{top + h/2, "else", b.Else})
			}
		}
	}
	for k, j := range jumps {
		to, ok := mid[j.target]
		if !ok {
			continue
		}
		gx := max(x-10-8*k, 4)
		colour := muted
		if j.arm == "then" {
			colour = palette[0]
		}
		d.out.empty("path", "class", "jump", "data-arm", j.arm, "data-target", j.target,
			"d", fmt.Sprintf("M %d %d H %d V %d H %d", x, j.fromY, gx, to, x-2),
			"fill", "none", "stroke", colour, "stroke-width", 1.5, "marker-end", "url(#arrow)")
	}
}

// step writes one step at x, in a group of its own, and returns its
// height.
func (d *drawer) step(s journeys.Step, x int) int {
	o := &d.out
	kind, h := kindOf(s)
	o.open("g", "class", "step "+kind, "data-step", s.ID(), "data-kind", kind)
	o.empty("rect", "x", x, "y", d.y, "width", labelW, "height", h, "rx", 4, "fill", labelFill, "stroke", line)
	o.elem("text", kind, "x", x+10, "y", d.y+17, "fill", muted, "font-size", 11, "class", "kind")
	o.elem("text", Shorten(s.ID(), (labelW-20)/charW), "x", x+10, "y", d.y+34, "font-weight", "bold", "fill", ink, "class", "id")
	cx := x + contentDX
	switch {
	case s.Send != nil:
		d.send(s.Send, cx)
	case s.Wait != nil:
		d.box("wait-text", waitText(s.Wait), cx, h, "4 3")
	case s.Branch != nil:
		d.branch(s.Branch, cx)
	case s.Exit != nil:
		d.box("exit-text", exitText(s.Exit), cx, h, "")
	}
	o.close("g")
	d.y += h
	return h
}

// kindOf returns the kind of s and the height of its row.
func kindOf(s journeys.Step) (string, int) {
	switch {
	case s.Send != nil:
		return "send", sendH
	case s.Wait != nil:
		return "wait", waitH
	case s.Branch != nil:
		return "branch", branchH
	}
	return "exit", exitH
}

// send writes a fallback chain left to right, and what follows when every
// attempt fails.
func (d *drawer) send(s *journeys.SendStep, x int) {
	o := &d.out
	mid := d.y + attemptH/2
	for k, a := range s.Attempts {
		bx := x + k*attemptDX
		if k > 0 {
			o.empty("line", "x1", bx-attemptDX+attemptW, "y1", mid, "x2", bx-2, "y2", mid, "stroke", badColour, "stroke-width", 1.5, "stroke-dasharray", "5 3", "marker-end", "url(#arrow)")
			o.elem("text", "fallback", "x", bx-(attemptDX-attemptW)/2, "y", mid-6, "text-anchor", "middle", "fill", badColour, "font-size", 11)
		}
		d.attempt(a, k+1, bx)
	}
	end := x + max(len(s.Attempts)-1, 0)*attemptDX + attemptW
	note := "all fail: the journey fails"
	if s.OnFailure == "continue" {
		note = "all fail: go on to the next step"
	}
	o.elem("text", note, "x", end+12, "y", mid+4, "fill", muted, "class", "on-failure")
	d.grow(end + 12 + len(note)*charW)
}

// attempt writes one link of a fallback chain.
func (d *drawer) attempt(a journeys.Attempt, n, x int) {
	o := &d.out
	colour := d.colour(a.Channel)
	what := d.sends(a)
	lines := []string{
		string(a.Channel),
		what,
		"await " + string(a.AwaitOrDefault()),
		"within " + FormatDuration(a.WithinOrDefault()),
	}
	o.open("g", "class", "attempt", "data-channel", a.Channel, "data-attempt", n)
	o.elem("title", fmt.Sprintf("attempt %d: %s", n, strings.Join(lines, ", ")))
	o.empty("rect", "x", x, "y", d.y, "width", attemptW, "height", attemptH, "rx", 4, "fill", "#ffffff", "stroke", colour, "stroke-width", 1.5)
	o.empty("rect", "x", x, "y", d.y, "width", 6, "height", attemptH, "fill", colour)
	o.elem("text", lines[0], "x", x+14, "y", d.y+19, "font-weight", "bold", "fill", colour, "class", "channel")
	for i, l := range lines[1:] {
		o.elem("text", Shorten(l, (attemptW-22)/6), "x", x+14, "y", d.y+37+i*lineH, "fill", ink)
	}
	o.close("g")
}

// sends says what an attempt sends, without its text, as its channel's
// driver describes it; "?" when no driver reads it.
func (d *drawer) sends(a journeys.Attempt) string {
	_, c, err := a.Content(d.opts.Channels)
	if err != nil {
		return "?"
	}
	return c.Describe()
}

// branch writes a branch's condition and its two arms.
func (d *drawer) branch(b *journeys.BranchStep, x int) {
	o := &d.out
	cond := "event " + b.Event + " received?"
	if b.Step != "" {
		cond = "step " + b.Step + " " + string(b.Outcome)
		if b.Channel != "" {
			cond += " on " + string(b.Channel)
		}
		cond += "?"
	}
	w := len([]rune(cond))*charW + 28
	top, mid := d.y+4, d.y+branchH/2
	o.empty("polygon", "points", fmt.Sprintf("%d,%d %d,%d %d,%d %d,%d %d,%d %d,%d",
		x, mid, x+14, top, x+w-14, top, x+w, mid, x+w-14, d.y+branchH-4, x+14, d.y+branchH-4),
		"fill", "#fff8e6", "stroke", "#b7791f")
	o.elem("text", cond, "x", x+14, "y", mid+4, "fill", ink, "class", "condition")
	ax := x + w + 20
	els := b.Else
	if els == "" {
		els = "the next step"
	}
	for _, arm := range []struct{ name, target string }{{"then", b.Then}, {"else", els}} {
		text := arm.name + " → " + arm.target
		aw := len([]rune(text))*charW + 20
		o.open("g", "class", "arm", "data-arm", arm.name, "data-target", arm.target)
		o.empty("rect", "x", ax, "y", mid-12, "width", aw, "height", 24, "rx", 12, "fill", "#ffffff", "stroke", line)
		o.elem("text", text, "x", ax+10, "y", mid+4, "fill", ink)
		o.close("g")
		ax += aw + 12
	}
	d.grow(ax)
}

// box writes a row's text in a box; dash, if set, dashes its border.
func (d *drawer) box(class, text string, x, h int, dash string) {
	w := len([]rune(text))*charW + 24
	kv := []any{"x", x, "y", d.y + 6, "width", w, "height", h - 12, "rx", 4, "fill", "#ffffff", "stroke", line}
	if dash != "" {
		kv = append(kv, "stroke-dasharray", dash)
	}
	d.out.empty("rect", kv...)
	d.out.elem("text", text, "x", x+12, "y", d.y+h/2+4, "fill", ink, "class", class)
	d.grow(x + w)
}

// waitText says what a wait waits for.
func waitText(w *journeys.WaitStep) string {
	if w.Until == "" {
		return "wait " + FormatDuration(time.Duration(w.Duration))
	}
	then := "go on"
	if w.OnTimeout == "exit" {
		then = "exit"
	}
	return fmt.Sprintf("wait until event %s, at most %s; on timeout: %s", w.Until, FormatDuration(time.Duration(w.Timeout)), then)
}

// exitText says how an exit ends the journey.
func exitText(e *journeys.ExitStep) string {
	outcome := e.Outcome
	if outcome == "" {
		outcome = "completed"
	}
	return "exit: " + outcome
}

// FormatDuration formats t as diagrams do: without its zero tail (10m,
// not 10m0s), and two or more whole days also in days: 1440h (60d).
func FormatDuration(t time.Duration) string {
	const day = 24 * time.Hour
	if t >= 2*day && t%day == 0 {
		return fmt.Sprintf("%dh (%dd)", t/time.Hour, t/day)
	}
	s := t.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Shorten cuts s to n runes, marking the cut with an ellipsis.
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
