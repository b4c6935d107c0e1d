package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
)

// definitionsData is the list of journey definitions.
type definitionsData struct {
	Journeys []definitionRow
}

// definitionRow is one journey definition in the list.
type definitionRow struct {
	Name     string
	Purpose  journeys.Purpose
	Steps    int
	Handlers int
	Channels string
	Expire   string
	// Error says why the definition could not be read ("" when it was).
	Error string
}

// definitionData is one journey's diagram page.
type definitionData struct {
	Name    string
	Purpose journeys.Purpose
	// SVG is the diagram, from the diagram package, which escapes every
	// text of the journey.
	SVG template.HTML
}

// definitions lists the journeys the console can draw: the built-in ones.
func (c *Console) definitions(w http.ResponseWriter, _ *http.Request, who caller) {
	var d definitionsData
	for _, name := range journeys.BuiltinNames() {
		row := definitionRow{Name: name}
		j, err := journeys.Builtin(name, c.opts.Channels)
		if err != nil {
			row.Error = err.Error()
		} else {
			row.Purpose, row.Steps, row.Handlers = j.Purpose, len(j.Steps), len(j.On)
			row.Channels = strings.Join(c.usedChannels(j), ", ")
			if j.Expire > 0 {
				row.Expire = diagram.FormatDuration(time.Duration(j.Expire))
			}
		}
		d.Journeys = append(d.Journeys, row)
	}
	c.render(w, http.StatusOK, "definitions", c.page(who, "Journey definitions", d))
}

// definition draws one journey: as a page, or, for NAME.svg, as the SVG
// alone (the same as `switchback graph NAME`).
func (c *Console) definition(w http.ResponseWriter, r *http.Request, who caller) {
	name, raw := strings.CutSuffix(r.PathValue("name"), ".svg")
	if !slices.Contains(journeys.BuiltinNames(), name) {
		c.fail(w, who, http.StatusNotFound, fmt.Sprintf("No journey %q: the console draws the built-in journeys (%s).", name, strings.Join(journeys.BuiltinNames(), ", ")))
		return
	}
	j, err := journeys.Builtin(name, c.opts.Channels)
	if err != nil {
		c.fail(w, who, http.StatusInternalServerError, err.Error())
		return
	}
	svg := diagram.SVG(j, diagram.Options{Channels: c.opts.Channels})
	if raw {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write(svg)
		return
	}
	d := definitionData{Name: j.Name, Purpose: j.Purpose, SVG: template.HTML(svg)}
	c.render(w, http.StatusOK, "definition", c.page(who, "Journey "+j.Name, d))
}

// usedChannels lists the channels j sends on: those of the registry
// first, in its order, then any other, in j's order.
func (c *Console) usedChannels(j journeys.Journey) []string {
	var used []channels.Channel
	steps := slices.Clone(j.Steps)
	for _, h := range j.On {
		steps = append(steps, h.Steps...)
	}
	for _, s := range steps {
		if s.Send == nil {
			continue
		}
		for _, a := range s.Send.Attempts {
			if !slices.Contains(used, a.Channel) {
				used = append(used, a.Channel)
			}
		}
	}
	registry := c.opts.Channels.Channels("")
	var out []string
	for _, ch := range registry {
		if slices.Contains(used, ch) {
			out = append(out, string(ch))
		}
	}
	for _, ch := range used {
		if !slices.Contains(registry, ch) {
			out = append(out, string(ch))
		}
	}
	return out
}
