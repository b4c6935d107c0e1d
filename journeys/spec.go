// Package journeys holds journey definitions: the spec types that product
// teams write in YAML, the loader and validator, the renderer that fills in a
// journey's variables, the built-in journeys, and the small contract that
// backends use to start one (workflow type, task queue, input, search
// attributes).
package journeys

import (
	"encoding/json"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchbackhq/switchback/channels"
)

// Purpose says why a journey writes to a customer. It decides the template
// category and which consent a send needs.
type Purpose string

// The purposes a journey can have.
const (
	Authentication Purpose = "authentication"
	Utility        Purpose = "utility"
	Marketing      Purpose = "marketing"
)

// Journey is one journey definition: what to send, on which channels, in
// which order, how long to wait, and which events steer it.
type Journey struct {
	Name    string  `yaml:"name" json:"name"`
	Purpose Purpose `yaml:"purpose" json:"purpose"`
	// Params are the variables a start must pass.
	Params []Param `yaml:"params,omitempty" json:"params,omitempty"`
	// Expire bounds the whole journey; zero means no bound.
	Expire Duration `yaml:"expire,omitempty" json:"expire,omitempty"`
	// Goal names events that end the journey as converted, at any point.
	Goal []string `yaml:"goal,omitempty" json:"goal,omitempty"`
	// QuietHours hold marketing sends until the window opens.
	QuietHours *QuietHours `yaml:"quiet_hours,omitempty" json:"quiet_hours,omitempty"`
	// Verify makes the journey check a code that the customer received
	// (the Update "verify"); it stays open until verified or expired.
	Verify *Verification `yaml:"verify,omitempty" json:"verify,omitempty"`
	Steps  []Step        `yaml:"steps,omitempty" json:"steps,omitempty"`
	// TierLimit says what a broadcast of the journey does when the
	// WhatsApp messaging limit has no room for new recipients:
	// TierLimitWait (the default) holds the broadcast until it has;
	// TierLimitNextChannel starts the journeys anyway, and an attempt the
	// limit refuses gives way to the next (a tier_limited skip).
	TierLimit string `yaml:"tier_limit,omitempty" json:"tier_limit,omitempty"`
	// On reacts to events the backend sends, after Steps: each handler runs
	// its steps when its event arrives.
	On []Handler `yaml:"on,omitempty" json:"on,omitempty"`
}

// What a broadcast does at the messaging limit (Journey.TierLimit).
const (
	TierLimitWait        = "wait"
	TierLimitNextChannel = "next_channel"
)

// FirstChannel is the channel of the journey's first send attempt, or ""
// (a journey that waits first, or reacts to events, starts on no channel).
func (j Journey) FirstChannel() channels.Channel {
	if len(j.Steps) > 0 && j.Steps[0].Send != nil && len(j.Steps[0].Send.Attempts) > 0 {
		return j.Steps[0].Send.Attempts[0].Channel
	}
	return ""
}

// Param is a variable a journey needs, with an optional type and pattern.
// In YAML a param is a name, or a mapping with name, type and pattern.
type Param struct {
	Name string `yaml:"name" json:"name"`
	// Type is string (default), number, url or email.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Pattern is a regular expression the whole value must match.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
}

// UnmarshalYAML reads a param written as a name or as a mapping.
func (p *Param) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Name = n.Value
		return nil
	}
	type plain Param
	return n.Decode((*plain)(p))
}

// UnmarshalJSON reads a param written as a name or as an object.
func (p *Param) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.Name)
	}
	type plain Param
	return json.Unmarshal(b, (*plain)(p))
}

// QuietHours is a daily window, from Start to End (HH:MM, End may be past
// midnight), in which marketing messages are not sent.
type QuietHours struct {
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`
	// TimeZone is the journey's IANA time zone, used when the recipient's
	// is unknown (default UTC).
	TimeZone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
}

// Verification configures code verification.
type Verification struct {
	// Param names the variable that holds the code.
	Param string `yaml:"param" json:"param"`
	// MaxAttempts bounds the checks (default 5).
	MaxAttempts int `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
}

// Handler runs steps when an event arrives.
type Handler struct {
	Event string `yaml:"event" json:"event"`
	// Params are variables the event must carry.
	Params []Param `yaml:"params,omitempty" json:"params,omitempty"`
	Steps  []Step  `yaml:"steps,omitempty" json:"steps,omitempty"`
	// End ends the journey after the handler's steps.
	End bool `yaml:"end,omitempty" json:"end,omitempty"`
	// AnyTime lets the handler run after a later handler has. Otherwise
	// handlers are a progression: an event whose handler comes before one
	// that already ran is out of order and ignored. Each handler runs once.
	AnyTime bool `yaml:"any_time,omitempty" json:"any_time,omitempty"`
}

// Step is one step of a journey. Exactly one kind is set.
type Step struct {
	Send   *SendStep   `yaml:"send,omitempty" json:"send,omitempty"`
	Wait   *WaitStep   `yaml:"wait,omitempty" json:"wait,omitempty"`
	Branch *BranchStep `yaml:"branch,omitempty" json:"branch,omitempty"`
	Exit   *ExitStep   `yaml:"exit,omitempty" json:"exit,omitempty"`
}

// ID returns the step's id, whatever its kind.
func (s Step) ID() string {
	switch {
	case s.Send != nil:
		return s.Send.ID
	case s.Wait != nil:
		return s.Wait.ID
	case s.Branch != nil:
		return s.Branch.ID
	case s.Exit != nil:
		return s.Exit.ID
	}
	return ""
}

// SendStep sends one message through a fallback chain of attempts: each
// attempt is tried in order until one reaches its awaited status.
type SendStep struct {
	ID       string    `yaml:"id" json:"id"`
	Attempts []Attempt `yaml:"attempts" json:"attempts"`
	// OnFailure says what follows when every attempt fails: exit (default)
	// ends the journey as failed; continue goes on with the next step.
	OnFailure string `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
}

// WaitStep waits for a duration, or until an event arrives or a timeout
// passes.
type WaitStep struct {
	ID       string   `yaml:"id" json:"id"`
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	Until    string   `yaml:"until,omitempty" json:"until,omitempty"`
	Timeout  Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// OnTimeout is continue (default) or exit.
	OnTimeout string `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
}

// BranchStep goes to Then when its condition holds, else to Else (default:
// the next step). The condition is an event received so far (and
// optionally its payload), or the outcome of an earlier send step (and
// optionally its channel).
type BranchStep struct {
	ID    string `yaml:"id" json:"id"`
	Event string `yaml:"event,omitempty" json:"event,omitempty"`
	// Payload narrows Event to one received with this payload: for a
	// reply, the id of the reply button or list row the customer chose,
	// or the payload of a template's quick-reply button.
	Payload string `yaml:"payload,omitempty" json:"payload,omitempty"`
	Step    string `yaml:"step,omitempty" json:"step,omitempty"`
	// Outcome is delivered, read, failed or no_answer.
	Outcome StepOutcome      `yaml:"outcome,omitempty" json:"outcome,omitempty"`
	Channel channels.Channel `yaml:"channel,omitempty" json:"channel,omitempty"`
	Then    string           `yaml:"then" json:"then"`
	Else    string           `yaml:"else,omitempty" json:"else,omitempty"`
}

// ExitStep ends the journey.
type ExitStep struct {
	ID string `yaml:"id" json:"id"`
	// Outcome is how the journey ends: completed (default), converted or failed.
	Outcome string `yaml:"outcome,omitempty" json:"outcome,omitempty"`
}

// StepOutcome is how a send step ended.
type StepOutcome string

// Send step outcomes.
const (
	StepDelivered StepOutcome = "delivered" // the awaited status, delivered or beyond
	StepRead      StepOutcome = "read"      // read by the customer
	StepFailed    StepOutcome = "failed"    // every attempt failed or was skipped
	StepNoAnswer  StepOutcome = "no_answer" // the last attempt heard nothing in time
)

// Attempt is one link of a fallback chain: a channel, what to send on it,
// the status to wait for, and how long to wait. What to send is the
// channel's own fields (Fields), which its driver parses
// (channels.Driver.Parse). In YAML and JSON an attempt is one flat
// mapping: channel, await, within and the channel's fields side by side.
type Attempt struct {
	Channel channels.Channel
	// Await is the status that ends the step (default delivered).
	Await channels.Status
	// Within bounds the attempt, from its start to the awaited status, send
	// retries included (default 1m). When it passes, the next attempt starts.
	Within Duration
	// Fields are the channel's own fields: for WhatsApp template and
	// session, for SMS text, for email template, subject, text and html.
	Fields channels.Fields
	// badWithin is why a within read from YAML is not a duration, which
	// Validate reports.
	badWithin string
}

// attemptHead is an attempt's fields that every channel shares.
type attemptHead struct {
	Channel channels.Channel `yaml:"channel" json:"channel"`
	Await   channels.Status  `yaml:"await,omitempty" json:"await,omitempty"`
	Within  string           `yaml:"within,omitempty" json:"within,omitempty"`
}

// set sets the attempt from its head and the whole mapping.
func (a *Attempt) set(h attemptHead, all map[string]any) error {
	for _, k := range []string{"channel", "await", "within"} {
		delete(all, k)
	}
	*a = Attempt{Channel: h.Channel, Await: h.Await}
	if len(all) > 0 {
		a.Fields = channels.Fields(all)
	}
	if h.Within == "" {
		return nil
	}
	d, err := parseDuration(h.Within)
	a.Within = d
	return err
}

// UnmarshalYAML reads an attempt's flat mapping. A within that is not a
// duration leaves the attempt in its list, for Validate to report with
// the rest: a decoding error would drop it.
func (a *Attempt) UnmarshalYAML(n *yaml.Node) error {
	var h attemptHead
	var all map[string]any
	if err := n.Decode(&h); err != nil {
		return err
	}
	if err := n.Decode(&all); err != nil {
		return err
	}
	if err := a.set(h, all); err != nil {
		a.badWithin = err.Error()
	}
	return nil
}

// UnmarshalJSON reads an attempt's flat object.
func (a *Attempt) UnmarshalJSON(b []byte) error {
	var h attemptHead
	var all map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	return a.set(h, all)
}

// flat returns the attempt as one mapping.
func (a Attempt) flat() map[string]any {
	m := make(map[string]any, len(a.Fields)+3)
	for k, v := range a.Fields {
		m[k] = v
	}
	m["channel"] = a.Channel
	if a.Await != "" {
		m["await"] = a.Await
	}
	if a.Within != 0 {
		m["within"] = a.Within
	}
	return m
}

// MarshalJSON writes the attempt as one flat object.
func (a Attempt) MarshalJSON() ([]byte, error) { return json.Marshal(a.flat()) }

// MarshalYAML writes the attempt as one flat mapping.
func (a Attempt) MarshalYAML() (any, error) { return a.flat(), nil }

// Default values for attempt fields left empty.
const (
	DefaultAwait  = channels.StatusDelivered
	DefaultWithin = time.Minute
)

// AwaitOrDefault returns the status the attempt waits for.
func (a Attempt) AwaitOrDefault() channels.Status {
	if a.Await == "" {
		return DefaultAwait
	}
	return a.Await
}

// WithinOrDefault returns how long the attempt may take.
func (a Attempt) WithinOrDefault() time.Duration {
	if a.Within == 0 {
		return DefaultWithin
	}
	return time.Duration(a.Within)
}

// Duration is a time.Duration written as a string such as "30s" or "10m"
// in YAML and JSON, so that workflow histories stay readable.
type Duration time.Duration

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a duration string. A bad one is a *yaml.TypeError,
// so that the decoder goes on and reports the file's other problems too.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: duration must be a string such as \"30s\"", n.Line)}}
	}
	v, err := parseDuration(s)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: %w", s, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("bad duration %q: negative", s)
	}
	return Duration(v), nil
}
