package journeys

import (
	"errors"
	"fmt"
	"strings"
)

// EventVarsError is why a journey would ignore an event: the journey's
// handler for it needs params the event does not carry, or carries in the
// wrong form.
type EventVarsError struct {
	Journey string
	Event   string
	// Missing lists the params that are absent or empty, in the handler's
	// order.
	Missing []string
	// Invalid says which values are of the wrong type or pattern, when
	// none is missing.
	Invalid error
}

func (e *EventVarsError) Error() string {
	if len(e.Missing) > 0 {
		return fmt.Sprintf("journey %q: event %q needs %s", e.Journey, e.Event, strings.Join(e.Missing, ", "))
	}
	return fmt.Sprintf("journey %q: event %q: %v", e.Journey, e.Event, e.Invalid)
}

// Unwrap returns the invalid values' error.
func (e *EventVarsError) Unwrap() error { return e.Invalid }

// CheckEvent reports, as an *EventVarsError, the params that the journey's
// handler for ev needs and ev lacks or gives in the wrong form: the journey
// would ignore such an event. An event without a handler (a goal, an event
// a wait or branch step looks for) needs nothing and gets nil.
func (j Journey) CheckEvent(ev EventInput) error {
	for _, h := range j.On {
		if h.Event != ev.Name {
			continue
		}
		err := h.CheckEventVars(j.Name, ev.Vars)
		if err == nil {
			return nil
		}
		var missing *MissingParamsError
		if errors.As(err, &missing) {
			return &EventVarsError{Journey: j.Name, Event: ev.Name, Missing: missing.Missing}
		}
		return &EventVarsError{Journey: j.Name, Event: ev.Name, Invalid: err}
	}
	return nil
}
