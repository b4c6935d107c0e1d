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
// which order, and how long to wait for each.
type Journey struct {
	Name    string   `yaml:"name" json:"name"`
	Purpose Purpose  `yaml:"purpose" json:"purpose"`
	Params  []string `yaml:"params,omitempty" json:"params,omitempty"`
	// Expire bounds the whole journey; zero means no bound.
	Expire Duration `yaml:"expire,omitempty" json:"expire,omitempty"`
	Steps  []Step   `yaml:"steps" json:"steps"`
}

// Step is one step of a journey. Exactly one kind is set.
type Step struct {
	Send *SendStep `yaml:"send,omitempty" json:"send,omitempty"`
}

// SendStep sends one message through a fallback chain of attempts: each
// attempt is tried in order until one reaches its awaited status.
type SendStep struct {
	ID       string    `yaml:"id" json:"id"`
	Attempts []Attempt `yaml:"attempts" json:"attempts"`
}

// Attempt is one link of a fallback chain: a channel, what to send on it,
// the status to wait for, and how long to wait.
type Attempt struct {
	Channel  channels.Channel `yaml:"channel" json:"channel"`
	Template *Template        `yaml:"template,omitempty" json:"template,omitempty"`
	Text     string           `yaml:"text,omitempty" json:"text,omitempty"`
	// Await is the status that ends the step (default delivered).
	Await channels.Status `yaml:"await,omitempty" json:"await,omitempty"`
	// Within bounds the attempt, from its start to the awaited status, send
	// retries included (default 1m). When it passes, the next attempt starts.
	Within Duration `yaml:"within,omitempty" json:"within,omitempty"`
}

// Template names an approved WhatsApp template and the text of its
// parameters, each a text/template over the journey's variables.
type Template struct {
	Name      string   `yaml:"name" json:"name"`
	Language  string   `yaml:"language" json:"language"`
	Body      []string `yaml:"body,omitempty" json:"body,omitempty"`
	ButtonURL []string `yaml:"button_url,omitempty" json:"button_url,omitempty"`
}

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

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration must be a string such as \"30s\"", n.Line)
	}
	v, err := parseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
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
