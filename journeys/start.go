package journeys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
)

// StartOptions says which journey to start, for whom.
type StartOptions struct {
	Journey Journey
	To      string
	Vars    map[string]string
	// Email, PushTokens and TimeZone complete the recipient (optional).
	Email      string
	PushTokens []string
	TimeZone   string
	// ID becomes the workflow id: a second start with the same ID returns
	// the first journey and sends nothing. Empty: a new random id.
	ID string
	// ContactKey keys the hash of To stored as the SwitchbackContact
	// search attribute.
	ContactKey []byte
	// Channels are the channels the journey is checked against; nil
	// takes the journey as valid, as Parse and Builtin return it.
	Channels *channels.Registry
	// Priority is the Temporal priority key of the journey's tasks and
	// sends (1 runs first); zero: the server's default, 3. Broadcasts
	// start theirs at BroadcastPriority.
	Priority int
}

// Check reports what would make Start refuse opts: an invalid journey, a
// recipient that is not a phone number, a missing variable.
func (opts StartOptions) Check() error {
	if opts.Channels != nil {
		if err := opts.Journey.Validate(opts.Channels); err != nil {
			return fmt.Errorf("start journey %q: %w", opts.Journey.Name, err)
		}
	}
	if err := CheckRecipient(opts.To); err != nil {
		return fmt.Errorf("start journey %q: %w", opts.Journey.Name, err)
	}
	if err := opts.Journey.CheckVars(opts.Vars); err != nil {
		return fmt.Errorf("start journey %q: %w", opts.Journey.Name, err)
	}
	if opts.Email != "" {
		if err := (Param{Name: "email", Type: "email"}).check(opts.Email); err != nil {
			return fmt.Errorf("start journey %q: %w", opts.Journey.Name, err)
		}
	}
	if opts.TimeZone != "" {
		if _, err := time.LoadLocation(opts.TimeZone); err != nil {
			return fmt.Errorf("start journey %q: unknown time zone %q", opts.Journey.Name, opts.TimeZone)
		}
	}
	return nil
}

// Start starts a journey on Temporal and returns its run. It checks the
// input first, so that a journey never starts with a missing variable.
// When a journey with the same ID exists, running or finished, Start returns
// it and reports existed = true.
func Start(ctx context.Context, c client.Client, opts StartOptions) (run client.WorkflowRun, existed bool, err error) {
	if err := opts.Check(); err != nil {
		return nil, false, err
	}
	id := opts.ID
	if id == "" {
		id = opts.Journey.Name + "-" + rand.Text()[:16]
	}
	run, err = c.ExecuteWorkflow(ctx, startOptions(opts, id), WorkflowType, opts.input())
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return c.GetWorkflow(ctx, id, ""), true, nil
	case err != nil:
		return nil, false, fmt.Errorf("start journey %q as %s: %w", opts.Journey.Name, id, err)
	}
	return run, false, nil
}

func (opts StartOptions) input() Input {
	return Input{Journey: opts.Journey, To: opts.To, Email: opts.Email, PushTokens: opts.PushTokens, TimeZone: opts.TimeZone, Vars: opts.Vars, Code: CurrentCode}
}

// startOptions are the workflow options of a journey start.
func startOptions(opts StartOptions, id string) client.StartWorkflowOptions {
	attrs := []temporal.SearchAttributeUpdate{
		JourneyAttr.ValueSet(opts.Journey.Name),
		ContactAttr.ValueSet(ContactKey(opts.ContactKey, opts.To)),
		OutcomeAttr.ValueSet("running"),
	}
	if ch := opts.Journey.FirstChannel(); ch != "" {
		// The journey upserts the channel only when it changes.
		attrs = append(attrs, ChannelAttr.ValueSet(string(ch)))
	}
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// Report a journey with this id, running or ended, instead of
		// starting another: the same key never sends twice.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// When this client's own worker polls the task queue, the first
		// workflow task comes back with the start: one round trip less.
		EnableEagerStart:      true,
		TypedSearchAttributes: temporal.NewSearchAttributes(attrs...),
		Priority:              temporal.Priority{PriorityKey: opts.Priority},
	}
}
