// Package simulate runs a journey in the Temporal SDK's test environment,
// with time skipping and providers played by a scenario, so that a product
// team can see what a customer would receive, and when, without sending
// anything.
package simulate

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/workflows"
)

// Outcome is what a simulated provider does with a message.
type Outcome string

// Simulated outcomes.
const (
	Delivered Outcome = "delivered" // sent, then delivered
	Read      Outcome = "read"      // sent, delivered, then read
	Sent      Outcome = "sent"      // sent, and nothing more
	Failed    Outcome = "failed"    // accepted, then reported failed
	Silent    Outcome = "silent"    // accepted, and no status ever
	Refused   Outcome = "refused"   // the send is refused at once
)

// ParseScenario parses "whatsapp=failed,sms=delivered", each a channel of
// reg. Channels it does not name deliver.
func ParseScenario(s string, reg *channels.Registry) (map[channels.Channel]Outcome, error) {
	out := map[channels.Channel]Outcome{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		ch, o, ok := strings.Cut(strings.TrimSpace(part), "=")
		c := channels.Channel(ch)
		if _, known := reg.Lookup(c); !ok || !known {
			return nil, fmt.Errorf("scenario %q: want channel=outcome with channel %s", part, reg.String())
		}
		switch oc := Outcome(o); oc {
		case Delivered, Read, Sent, Failed, Silent, Refused:
			out[c] = oc
		default:
			return nil, fmt.Errorf("scenario %q: unknown outcome %q (delivered, read, sent, failed, silent or refused)", part, o)
		}
	}
	return out, nil
}

// Event is an event sent to the journey After its start.
type Event struct {
	After time.Duration
	Event journeys.EventInput
}

// Check is a code checked After the journey's start.
type Check struct {
	After time.Duration
	Code  string
}

// Options configures a simulation.
type Options struct {
	Input    journeys.Input
	Scenario map[channels.Channel]Outcome
	Events   []Event
	Checks   []Check
	// Start is the journey's start time (default: now), for quiet hours.
	Start time.Time
	// StatusDelay is the time between two statuses of a message (default 2s).
	StatusDelay time.Duration
	// Channels are the channels the journey may send on (app.Channels).
	Channels *channels.Registry
	// Caps are the frequency caps in force; SentRecently counts the
	// messages of the journey's purpose the contact got on each channel
	// within the caps' windows before the start.
	Caps         activities.FrequencyCaps
	SentRecently map[channels.Channel]int
	// Tier is the WhatsApp messaging limit (TIER_250, a number, ...;
	// empty: none); SentToday counts the unique recipients of templates
	// counted against it in the 24 hours before the start, the contact
	// not among them.
	Tier      string
	SentToday int
}

// Run runs the journey until it ends, or until a week of journey time has
// passed, and returns its timeline.
func Run(opts Options) (journeys.Timeline, error) {
	if opts.StatusDelay <= 0 {
		opts.StatusDelay = 2 * time.Second
	}
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet{})
	env := ts.NewTestWorkflowEnvironment()
	if !opts.Start.IsZero() {
		env.SetStartTime(opts.Start)
	}
	env.SetTestTimeout(time.Minute)
	// A simulation keeps and sends nothing: any key will do, and wa_link
	// links to a placeholder number.
	workflows.Register(env, workflows.Options{ContactKey: []byte(rand.Text()), Channels: opts.Channels, BusinessNumber: "+15550009999"})
	p := &providers{channels: opts.Channels, scenario: opts.Scenario}
	env.RegisterActivityWithOptions(p.send, activity.RegisterOptions{Name: activities.SendName})
	// A simulation has no store: every attempt is eligible but for its
	// frequency cap, the 24-hour window is open, and the event log goes
	// nowhere.
	caps, err := newCapCounter(opts)
	if err != nil {
		return journeys.Timeline{}, err
	}
	env.RegisterActivityWithOptions(caps.check, activity.RegisterOptions{Name: activities.CheckEligibilityName})
	env.RegisterActivityWithOptions(func(context.Context, []activities.EventRequest) error { return nil },
		activity.RegisterOptions{Name: activities.RecordEventsName})
	env.SetOnActivityCompletedListener(func(_ *activity.Info, result converter.EncodedValue, err error) {
		var res channels.SendResult
		if err != nil || result == nil || result.Get(&res) != nil {
			return
		}
		for i, st := range p.statuses(res.MessageID) {
			u := st
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalStatus, u) }, time.Duration(i+1)*opts.StatusDelay)
		}
	})
	for _, ev := range opts.Events {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalEvent, ev.Event) }, ev.After)
	}
	for _, c := range opts.Checks {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateVerify, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {},
			}, c.Code)
		}, c.After)
	}
	env.ExecuteWorkflow(journeys.WorkflowType, opts.Input)
	v, err := env.QueryWorkflow(workflows.QueryTimeline)
	if err != nil {
		return journeys.Timeline{}, fmt.Errorf("simulate %s: %w", opts.Input.Journey.Name, err)
	}
	var tl journeys.Timeline
	if err := v.Get(&tl); err != nil {
		return journeys.Timeline{}, fmt.Errorf("simulate %s: %w", opts.Input.Journey.Name, err)
	}
	if err := env.GetWorkflowError(); err != nil && !temporal.IsCanceledError(err) {
		return tl, fmt.Errorf("simulate %s: %w", opts.Input.Journey.Name, err)
	}
	return tl, nil
}

// providers plays every provider by the scenario.
type providers struct {
	channels *channels.Registry
	scenario map[channels.Channel]Outcome
	mu       sync.Mutex
	n        int
	byID     map[string]channels.Channel
}

func (p *providers) send(_ context.Context, req activities.SendRequest) (channels.SendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := req.Message.Channel
	sim := p.channels.Simulation(ch)
	if p.scenario[ch] == Refused {
		return channels.SendResult{}, temporal.NewNonRetryableApplicationError("refused", activities.SendErrorType, nil,
			activities.SendFailure{Provider: sim.Provider, Code: sim.Refused, Reason: "refused by the scenario", Permanent: true})
	}
	p.n++
	id := fmt.Sprintf("sim-%s-%d", ch, p.n)
	if p.byID == nil {
		p.byID = map[string]channels.Channel{}
	}
	p.byID[id] = ch
	return channels.SendResult{Provider: sim.Provider, MessageID: id, Status: sim.Answer}, nil
}

// statuses lists the status callbacks a message gets, in order.
func (p *providers) statuses(id string) []channels.StatusUpdate {
	p.mu.Lock()
	ch := p.byID[id]
	p.mu.Unlock()
	sim := p.channels.Simulation(ch)
	st := func(s channels.Status) channels.StatusUpdate {
		return channels.StatusUpdate{Provider: sim.Provider, MessageID: id, Status: s}
	}
	switch p.scenario[ch] {
	case Silent:
		return nil
	case Sent:
		return []channels.StatusUpdate{st(channels.StatusSent)}
	case Failed:
		f := st(channels.StatusFailed)
		f.ErrorCode, f.ErrorReason = sim.Failed, "failed in the scenario"
		return []channels.StatusUpdate{f}
	case Read:
		return []channels.StatusUpdate{st(channels.StatusSent), st(channels.StatusDelivered), st(channels.StatusRead)}
	}
	return []channels.StatusUpdate{st(channels.StatusSent), st(channels.StatusDelivered)}
}

// quiet discards the test environment's log lines.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
