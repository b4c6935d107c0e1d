package console

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
)

// picture is a journey's timeline laid out for the SVG of the journey
// page: one lane for the journey itself (start, events, waits, verify
// attempts, the outcome), then one per channel the journey used, in the
// registry's order; one column per timeline entry, in order, so that
// entries milliseconds apart stay apart.
type picture struct {
	Width, Height int
	Lanes         []lane
	Marks         []mark
	Links         []link
}

// lane is one row of the picture.
type lane struct {
	Name string
	// Top is the lane's upper edge, Height its height; Y the line its
	// marks sit on.
	Top, Height, Y int
}

// mark is one timeline entry.
type mark struct {
	X, Y int
	// Class is ok, bad, skip or info: the mark's colour.
	Class string
	Label string
	// Time is the entry's time since the start.
	Time string
	// Reason and ReasonClass say why (a fallback, a skip), shortened;
	// Title holds everything, in full, as the mark's tooltip.
	Reason, ReasonClass, Title string
}

// link joins a fallback to the attempt that follows it.
type link struct{ X1, Y1, X2, Y2 int }

// Layout of the picture, in pixels.
const (
	picLeft    = 90
	picColumn  = 130
	picLane    = 92
	picMarkY   = 34
	picReasonN = 18
)

// journeyLane is the name of the lane of entries on no channel.
const journeyLane = "journey"

// drawTimeline lays out tl; order is the registry's channels.
func drawTimeline(tl journeys.Timeline, order []channels.Channel) picture {
	lanes := laneNames(tl, order)
	var p picture
	for i, name := range lanes {
		top := i * picLane
		p.Lanes = append(p.Lanes, lane{Name: name, Top: top, Height: picLane, Y: top + picMarkY})
	}
	p.Width = picLeft + max(len(tl.Events), 1)*picColumn
	p.Height = len(lanes) * picLane
	var start time.Time
	if len(tl.Events) > 0 {
		start = tl.Events[0].Time
	}
	fallback := -1
	for i, ev := range tl.Events {
		m := markOf(tl, ev, start)
		m.X = picLeft + i*picColumn + picColumn/2
		m.Y = p.Lanes[slices.Index(lanes, laneOf(ev))].Y
		if ev.Kind == journeys.EventAttempt && fallback >= 0 {
			f := p.Marks[fallback]
			p.Links = append(p.Links, link{X1: f.X, Y1: f.Y, X2: m.X, Y2: m.Y})
			fallback = -1
		}
		if ev.Kind == journeys.EventFallback {
			fallback = i
		}
		p.Marks = append(p.Marks, m)
	}
	return p
}

// laneNames returns the journey lane, then the channels of tl's entries:
// those of order first, in its order, then any other.
func laneNames(tl journeys.Timeline, order []channels.Channel) []string {
	used := map[string]bool{}
	var others []string
	for _, ev := range tl.Events {
		l := laneOf(ev)
		if l == journeyLane || used[l] {
			continue
		}
		used[l] = true
		if !slices.Contains(order, channels.Channel(l)) {
			others = append(others, l)
		}
	}
	names := []string{journeyLane}
	for _, ch := range order {
		if used[string(ch)] {
			names = append(names, string(ch))
		}
	}
	return append(names, others...)
}

// laneOf returns the lane of ev: its channel's, or the journey's.
func laneOf(ev journeys.Event) string {
	if ev.Channel == "" {
		return journeyLane
	}
	switch ev.Kind {
	case journeys.EventStarted, journeys.EventReceived, journeys.EventWait, journeys.EventBranch, journeys.EventVerify, journeys.EventDone:
		return journeyLane
	}
	return string(ev.Channel)
}

// markOf returns ev's mark, without its place.
func markOf(tl journeys.Timeline, ev journeys.Event, start time.Time) mark {
	m := mark{Label: entryName(ev), Time: "+" + ev.Time.Sub(start).Round(time.Millisecond).String(), Class: "info"}
	switch {
	case ev.Kind == journeys.EventDone:
		m.Label = "done: " + string(tl.Outcome)
		m.Class = outcomeClass(tl.Outcome)
	case ev.Kind == journeys.EventFallback || ev.Kind == journeys.EventSendFailed || ev.Status == channels.StatusFailed:
		m.Class = "bad"
	case ev.Kind == journeys.EventSkipped || ev.Kind == journeys.EventDeferred:
		m.Class = "skip"
	case ev.Kind == journeys.EventSent || ev.Kind == journeys.EventStatus:
		m.Class = "ok"
	}
	why := strings.TrimSpace(strings.TrimSpace(ev.Code+" ") + " " + ev.Reason)
	m.Reason = diagram.Shorten(why, picReasonN)
	m.ReasonClass = string(ev.ReasonClass)
	title := []string{m.Label, m.Time}
	if why != "" {
		title = append(title, why)
	}
	if m.ReasonClass != "" {
		title = append(title, "["+m.ReasonClass+"]")
	}
	m.Title = strings.Join(title, " · ")
	return m
}

// entryName names a timeline entry as the table does, an attempt with
// its number.
func entryName(ev journeys.Event) string {
	if ev.Kind == journeys.EventAttempt {
		return "attempt " + strconv.Itoa(ev.Attempt)
	}
	return ev.Label()
}

// outcomeClass is the colour of an outcome.
func outcomeClass(o journeys.Outcome) string {
	switch o {
	case journeys.OutcomeDelivered, journeys.OutcomeCompleted, journeys.OutcomeConverted, journeys.OutcomeVerified:
		return "ok"
	case journeys.OutcomeRunning, journeys.OutcomeCanceled, journeys.OutcomeExpired:
		return "info"
	}
	return "bad"
}
