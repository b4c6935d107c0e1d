package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// receiveEvent takes one event: duplicates (by id) are dropped; a goal
// ends the journey as converted; an event for an on handler is queued.
func (r *run) receiveEvent(ctx workflow.Context, ev journeys.EventInput) {
	if ev.ID != "" {
		if r.events.ids[ev.ID] {
			return
		}
		r.events.ids[ev.ID] = true
	}
	r.events.seen[ev.Name] = true
	r.events.counts[ev.Name]++
	if p := ev.Vars[journeys.PayloadVar]; p != "" {
		r.events.payloads[eventPayload{ev.Name, p}] = true
	}
	e := Event{Kind: EventReceived, Name: ev.Name}
	switch {
	case slices.Contains(r.in.Journey.Goal, ev.Name):
		e.Reason, e.ReasonClass = "goal reached", store.ClassGoal
		r.note(Event{Name: ev.Name, Reason: "goal " + ev.Name, ReasonClass: store.ClassGoal, Time: workflow.Now(ctx).UTC()}, store.EventConverted, "")
		r.endWith(&ending{outcome: OutcomeConverted, reason: "goal " + ev.Name})
	case slices.ContainsFunc(r.in.Journey.On, func(h journeys.Handler) bool { return h.Event == ev.Name }):
		r.events.pending = append(r.events.pending, pendingEvent{EventInput: ev, entry: len(r.timeline.Events)})
	}
	r.record(ctx, e)
}

// pendingEvent is an event queued for its on handler, with the index of
// its timeline entry: an event the handler will not take is listed once,
// as ignored with its reason.
type pendingEvent struct {
	journeys.EventInput
	entry int
}

// ignore marks a queued event's timeline entry as ignored, and why. It
// changes no command: the timeline is the query's.
func (r *run) ignore(ev pendingEvent, why string) {
	e := &r.timeline.Events[ev.entry]
	e.Reason, e.ReasonClass = "ignored: "+why, store.ClassIgnored
}

// handlerState is what the on handlers have done so far.
type handlerState struct {
	ran    []bool // handler i ran
	latest int    // the last handler (in order) that ran, or -1
}

// handleEvents runs the on handlers for events as they arrive, until a
// handler ends the journey or it expires.
func (r *run) handleEvents(ctx workflow.Context) error {
	handlers := r.in.Journey.On
	hs := handlerState{ran: make([]bool, len(handlers)), latest: -1}
	names := make([]string, len(handlers))
	for i, h := range handlers {
		names[i] = h.Event
	}
	r.timeline.Awaiting = "events: " + fmt.Sprint(names)
	defer func() { r.timeline.Awaiting = "" }()
	for {
		r.flush(ctx)
		if _, err := r.waitFor(ctx, waitSpec{cond: func() bool { return len(r.events.pending) > 0 }}); err != nil {
			return err
		}
		ev := r.events.pending[0]
		r.events.pending = r.events.pending[1:]
		if err := r.handle(ctx, &hs, ev); err != nil {
			return err
		}
	}
}

// handle runs the handler of one queued event, unless the event is ignored
// (its handler ran, came too late, or the event does not check).
func (r *run) handle(ctx workflow.Context, hs *handlerState, ev pendingEvent) error {
	handlers := r.in.Journey.On
	h := slices.IndexFunc(handlers, func(h journeys.Handler) bool { return h.Event == ev.Name })
	switch {
	case hs.ran[h]:
		r.ignore(ev, "already handled")
		return nil
	case !handlers[h].AnyTime && h < hs.latest:
		r.ignore(ev, fmt.Sprintf("out of order, %s came first", handlers[hs.latest].Event))
		return nil
	}
	if err := r.in.Journey.CheckEvent(ev.EventInput); err != nil {
		r.ignore(ev, err.Error())
		return nil
	}
	hs.ran[h], hs.latest = true, max(hs.latest, h)
	r.vars = mergeVars(r.in.Vars, ev.Vars)
	err := r.runSteps(ctx, ev.Name+".", handlers[h].Steps)
	r.vars = r.in.Vars
	if err != nil {
		return err
	}
	if handlers[h].End {
		return &ending{outcome: OutcomeCompleted, reason: "event " + ev.Name}
	}
	return nil
}

func mergeVars(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
