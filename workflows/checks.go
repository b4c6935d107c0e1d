package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// checksChange versions the eligibility check before each attempt and the
// message event log: journeys started before them replay without either.
const checksChange = "eligibility-and-event-log"

// fewerWritesChange versions two savings: SwitchbackChannel is upserted
// only when it changes (the starter sets the first channel), and the event
// log is written at decisions and before long waits instead of after every
// signal. Each upsert is a visibility write, each flush a local activity.
const fewerWritesChange = "fewer-writes"

// checkTimeout bounds a local activity against the store (retries included).
const checkTimeout = 30 * time.Second

func localOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: checkTimeout,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second},
	})
}

// eligible asks the store whether the attempt may be sent (suppression,
// consent, the 24-hour window, frequency caps); canDefer says an attempt
// unreachable last time would be deferred. An eligibility that cannot be learnt skips
// the attempt: nothing is sent that the rules might forbid.
func (r *run) eligible(ctx workflow.Context, a journeys.Attempt, canDefer bool) activities.Eligibility {
	if !r.exec.checks {
		return activities.Eligibility{Allowed: true}
	}
	session, template := r.windowed(a)
	req := activities.EligibilityRequest{
		Journey:     r.in.Journey.Name,
		Purpose:     r.in.Journey.Purpose,
		Channel:     a.Channel,
		To:          r.in.To,
		Email:       r.in.Email,
		Session:     session,
		HasTemplate: template,
		WorkflowID:  r.exec.workflowID,
		Attempt:     r.sends.attempt,
		MayDefer:    canDefer,
	}
	var el activities.Eligibility
	if err := workflow.ExecuteLocalActivity(localOptions(ctx), activities.CheckEligibilityName, req).Get(ctx, &el); err != nil {
		return activities.Eligibility{Reason: "eligibility unknown: " + err.Error(), Class: store.ClassEligibilityUnknown}
	}
	return el
}

// windowed reports whether the attempt's content has a session part,
// which the 24-hour window decides, and a template to send instead.
func (r *run) windowed(a journeys.Attempt) (session, template bool) {
	_, c, err := a.Content(r.cfg.channels)
	if w, ok := c.(channels.Windowed); err == nil && ok {
		return w.HasSession(), w.HasTemplate()
	}
	return false, false
}

// note queues an event for the message event log; flush writes the queue.
func (r *run) note(ev Event, status store.EventStatus, template string) {
	r.notePriced(ev, status, template, "")
}

// notePriced is note with the provider's pricing category.
func (r *run) notePriced(ev Event, status store.EventStatus, template, pricing string) {
	if !r.exec.checks {
		return
	}
	e := store.MessageEvent{
		Provider:        ev.Provider,
		MessageID:       ev.MessageID,
		Status:          status,
		Journey:         r.in.Journey.Name,
		WorkflowID:      r.exec.workflowID,
		Step:            ev.Step,
		Attempt:         ev.Attempt,
		Channel:         ev.Channel,
		Template:        template,
		ErrorCode:       ev.Code,
		ErrorReason:     ev.Reason,
		ReasonClass:     ev.ReasonClass,
		PricingCategory: pricing,
		At:              ev.Time,
	}
	if e.MessageID == "" {
		e.Provider, e.MessageID = store.LocalProvider, store.LocalMessageID(r.exec.workflowID, ev.Attempt)
	}
	r.unrecorded = append(r.unrecorded, activities.EventRequest{To: r.in.To, Event: e})
}

// flush writes the queued events to the message event log. The events are
// facts already decided: a store outage is retried, then logged, and never
// changes the journey.
func (r *run) flush(ctx workflow.Context) {
	if len(r.unrecorded) == 0 {
		return
	}
	batch := r.unrecorded
	r.unrecorded = nil
	if err := workflow.ExecuteLocalActivity(localOptions(ctx), activities.RecordEventsName, batch).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("record message events", "events", len(batch), "error", err)
	}
}

// templateName is the template an attempt sends, for the event log.
func templateName(m channels.Message) string {
	switch {
	case m.Template != nil:
		return m.Template.Name
	case m.Email != nil:
		return m.Email.TemplateID
	}
	return ""
}
