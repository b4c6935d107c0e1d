package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// ownAttributesChange versions the search attributes a journey sets itself
// when its starter did not (a backend in another language): journeys
// started before it replay without the upsert.
const ownAttributesChange = "own-search-attributes"

// UnknownJourneyType is the type of the ApplicationError that fails a
// journey started with a name that is not a built-in journey.
const UnknownJourneyType = "UnknownJourney"

// builtinLookup is what the worker found for a journey's name: the
// definition, or nothing and the names it knows.
type builtinLookup struct {
	Journey *journeys.Journey `json:"journey,omitempty"`
	Known   []string          `json:"known,omitempty"`
}

// resolveJourney fills in the definition of a journey started by name. The
// worker looks the name up once among its built-in journeys and the answer
// is recorded in history (a side effect), so that a replay runs the same
// definition even on a worker whose built-ins have changed since. An
// unknown name, or no journey at all, fails the journey at once.
func resolveJourney(ctx workflow.Context, in journeys.Input, reg *channels.Registry) (journeys.Input, error) {
	if in.Journey.Name != "" {
		return in, nil
	}
	name := in.JourneyName
	if name == "" {
		return in, temporal.NewNonRetryableApplicationError(
			"the input names no journey: set journey to a built-in journey's name or to a definition", "InvalidInput", nil)
	}
	var found builtinLookup
	err := workflow.SideEffect(ctx, func(workflow.Context) any { return lookupBuiltin(name, reg) }).Get(&found)
	if err != nil {
		return in, fmt.Errorf("look up journey %q: %w", name, err)
	}
	if found.Journey == nil {
		return in, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown journey %q (built-in journeys: %s)", name, strings.Join(found.Known, ", ")), UnknownJourneyType, nil)
	}
	in.Journey = *found.Journey
	return in, nil
}

func lookupBuiltin(name string, reg *channels.Registry) builtinLookup {
	j, err := journeys.Builtin(name, reg)
	if err != nil {
		return builtinLookup{Known: journeys.BuiltinNames()}
	}
	return builtinLookup{Journey: &j}
}

// setOwnSearchAttributes sets the search attributes that the journey's
// starter did not: SwitchbackJourney, SwitchbackContact (a keyed hash that
// only the worker can compute, recorded as a side effect) and
// SwitchbackOutcome. A journey started by the Go helper, the CLI or the API
// has them all and writes nothing.
func (r *run) setOwnSearchAttributes(ctx workflow.Context) {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var set []temporal.SearchAttributeUpdate
	if _, ok := sa.GetKeyword(journeys.JourneyAttr); !ok {
		set = append(set, journeys.JourneyAttr.ValueSet(r.in.Journey.Name))
	}
	if _, ok := sa.GetKeyword(journeys.OutcomeAttr); !ok {
		set = append(set, journeys.OutcomeAttr.ValueSet(string(OutcomeRunning)))
	}
	_, hasContact := sa.GetKeyword(journeys.ContactAttr)
	if len(set) == 0 && (hasContact || r.in.To == "") {
		return
	}
	if !r.changed(ctx, ownAttributesChange) {
		return
	}
	if !hasContact && r.in.To != "" {
		var contact string
		key, to := r.cfg.contactKey, r.in.To
		err := workflow.SideEffect(ctx, func(workflow.Context) any { return journeys.ContactKey(key, to) }).Get(&contact)
		if err == nil {
			set = append(set, journeys.ContactAttr.ValueSet(contact))
		}
	}
	if len(set) > 0 {
		r.upsert(ctx, set...)
	}
}
