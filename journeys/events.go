package journeys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
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

// ErrNotJourney is returned, wrapped, for a workflow id whose workflow is
// of another type than WorkflowType.
var ErrNotJourney = errors.New("not a journey")

// State is where a journey stands, as Temporal describes it.
type State struct {
	Status enumspb.WorkflowExecutionStatus
	// Outcome is the journey's SwitchbackOutcome search attribute; for an
	// ended workflow without one, its status ("terminated", "timed_out").
	Outcome Outcome
}

// Running reports whether the journey has not ended.
func (s State) Running() bool { return s.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }

// Describe returns the state of the journey id. A workflow of another type
// is an error wrapping ErrNotJourney; an id that Temporal does not know,
// one wrapping its *serviceerror.NotFound.
func Describe(ctx context.Context, c client.Client, id string) (State, error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return State{}, fmt.Errorf("describe journey %s: %w", id, err)
	}
	info := d.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != WorkflowType {
		return State{}, fmt.Errorf("workflow %s: %w (its type is %s)", id, ErrNotJourney, info.GetType().GetName())
	}
	st := State{Status: info.GetStatus()}
	if p, ok := info.GetSearchAttributes().GetIndexedFields()[OutcomeAttr.GetName()]; ok {
		var s string
		// Search attributes are never encoded by a codec: the default
		// converter reads them.
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
		st.Outcome = Outcome(s)
	}
	if !st.Running() && (st.Outcome == "" || st.Outcome == OutcomeRunning) {
		st.Outcome = Outcome(strings.ToLower(strings.TrimPrefix(st.Status.String(), "WORKFLOW_EXECUTION_STATUS_")))
	}
	return st, nil
}

// EndedError says that a journey has ended, so it takes no more events or
// codes.
type EndedError struct {
	ID      string
	Outcome Outcome
}

func (e *EndedError) Error() string {
	return fmt.Sprintf("journey %s has ended (outcome %s)", e.ID, e.Outcome)
}

// CheckEnded returns an *EndedError when err, the failure of a call to the
// journey id, comes from the journey having ended (Temporal reports it as
// not found); otherwise it returns err.
func CheckEnded(ctx context.Context, c client.Client, id string, err error) error {
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		return err
	}
	st, derr := Describe(ctx, c, id)
	if derr != nil || st.Running() {
		return err
	}
	return &EndedError{ID: id, Outcome: st.Outcome}
}

// Started is how the current run of a journey started.
type Started struct {
	RunID string
	Input Input
}

// ReadStart reads the input that the current run of the journey id
// started with (a journey started by name gets its built-in definition), decoded with dc (the client's data converter, which
// decrypts payloads; nil: the SDK's default). A workflow of another type
// is an error wrapping ErrNotJourney.
func ReadStart(ctx context.Context, c client.Client, dc converter.DataConverter, id string) (Started, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return Started{}, fmt.Errorf("read the start of journey %s: no history", id)
	}
	ev, err := it.Next()
	if err != nil {
		return Started{}, fmt.Errorf("read the start of journey %s: %w", id, err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if name := attrs.GetWorkflowType().GetName(); name != WorkflowType {
		return Started{}, fmt.Errorf("workflow %s: %w (its type is %s)", id, ErrNotJourney, name)
	}
	var in Input
	if err := dc.FromPayloads(attrs.GetInput(), &in); err != nil {
		return Started{}, fmt.Errorf("decode the input of journey %s (is the data converter the client's?): %w", id, err)
	}
	if in.Journey.Name == "" && in.JourneyName != "" {
		// Started by name: the worker resolved it among the built-ins,
		// as this does (the worker checked it against its channels).
		if in.Journey, err = Builtin(in.JourneyName, nil); err != nil {
			return Started{}, fmt.Errorf("journey %s: %w", id, err)
		}
	}
	return Started{RunID: attrs.GetOriginalExecutionRunId(), Input: in}, nil
}
