package journeys

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
)

// WorkflowType is the Temporal workflow type that runs every journey. A
// backend in any language starts it with an Input encoded as JSON.
const WorkflowType = "Journey"

// TaskQueue is the task queue of the Journey workflow.
const TaskQueue = "switchback"

// ActivityTaskQueue is the task queue of the send activity for a channel:
// one queue per provider, so that a provider's rate limit can be set on it.
func ActivityTaskQueue(c channels.Channel) string { return TaskQueue + "-" + string(c) }

// BroadcastPriority is the Temporal priority key of a broadcast's
// journeys: their workflow tasks and sends yield, on every queue, to those
// of journeys started one by one (the default key, 3; 1 runs first). A
// sale to 100,000 customers fills the WhatsApp queue for as long as the
// channel's rate takes to drain it; a one-time passcode started meanwhile
// is sent next, not behind it.
const BroadcastPriority = 4

// The names of the journey workflow's signals, query and update.
const (
	// SignalStatus carries a channels.StatusUpdate from a webhook.
	SignalStatus = "status"
	// SignalEvent carries an EventInput from the backend or an inbound message.
	SignalEvent = "event"
	// QueryTimeline returns the journey's Timeline.
	QueryTimeline = "timeline"
	// UpdateVerify checks a code (a string) and returns a VerifyResult.
	UpdateVerify = "verify"
)

// EventInput is an event sent to a journey: a backend's order shipped, an
// inbound reply, a goal reached.
type EventInput struct {
	Name string            `json:"name"`
	Vars map[string]string `json:"vars,omitempty"`
	// ID deduplicates: an event with an ID already seen is ignored.
	ID string `json:"id,omitempty"`
}

// PayloadVar is the event variable that carries an event's payload: for
// an inbound reply, the id of the reply button or list row the customer
// chose, or the payload of a template's quick-reply button. A branch with
// a payload (BranchStep.Payload) tests it.
const PayloadVar = "payload"

// VerifyResult is the answer to a verify update.
type VerifyResult struct {
	Verified bool `json:"verified"`
	// Remaining is how many checks are left after this one.
	Remaining int `json:"remaining"`
}

// Input starts a journey. The journey definition travels in it, so that
// editing a journey file never changes a journey already running.
//
// In JSON, "journey" holds the definition, or the name of a built-in
// journey ("journey": "otp"): the worker resolves the name once, when the
// journey starts, and records the definition in its history.
type Input struct {
	Journey Journey `json:"journey"`
	// JourneyName names a built-in journey in place of Journey, which is
	// then left empty. A definition in Journey wins over a name.
	JourneyName string `json:"-"`
	// To is the recipient's phone number in E.164 form (+15551234567).
	To string `json:"to"`
	// Email is the recipient's email address, for email attempts; attempts
	// on email are skipped without one.
	Email string `json:"email,omitempty"`
	// PushTokens are the device tokens of the recipient's app installs,
	// for push attempts; without them, those the contact store keeps.
	PushTokens []string `json:"push_tokens,omitempty"`
	// TimeZone is the recipient's IANA time zone, for quiet hours.
	TimeZone string `json:"timezone,omitempty"`
	// Vars fill the journey's params.
	Vars map[string]string `json:"vars,omitempty"`
	// Code is the journey code its starter was built with (CurrentCode),
	// set by Start and SignalWithStart. A worker of that code then records
	// no version marker for it, and no TemporalChangeVersion upsert, at
	// the journey's first task: one visibility write less per journey.
	// Other starters leave it out, and the worker records the marker.
	Code string `json:"switchback_code,omitempty"`
}

// CurrentCode names the journey workflow code of this build: the change
// that versions every change before it (workflows/versions.go).
const CurrentCode = "journey-2026-12"

// plainInput is Input without its JSON methods.
type plainInput Input

// namedInput is Input in JSON with a journey's name in place of its
// definition: its Journey shadows plainInput's.
type namedInput struct {
	plainInput
	Journey string `json:"journey"`
}

// MarshalJSON writes "journey" as the definition, or as the name when only
// JourneyName is set.
func (in Input) MarshalJSON() ([]byte, error) {
	if in.Journey.Name == "" && in.JourneyName != "" {
		return json.Marshal(namedInput{plainInput: plainInput(in), Journey: in.JourneyName})
	}
	return json.Marshal(plainInput(in))
}

// UnmarshalJSON reads "journey" as a definition (an object) or as the name
// of a built-in journey (a string, into JourneyName).
func (in *Input) UnmarshalJSON(b []byte) error {
	var probe struct {
		Journey json.RawMessage `json:"journey"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if raw := bytes.TrimSpace(probe.Journey); len(raw) == 0 || raw[0] != '"' {
		return json.Unmarshal(b, (*plainInput)(in))
	}
	var named namedInput
	if err := json.Unmarshal(b, &named); err != nil {
		return err
	}
	*in = Input(named.plainInput)
	in.JourneyName = named.Journey
	return nil
}

// Search attributes that Switchback sets on every journey. None of them
// holds a phone number or an email address.
var (
	// JourneyAttr is the journey's name.
	JourneyAttr = temporal.NewSearchAttributeKeyKeyword("SwitchbackJourney")
	// ContactAttr is the contact key: a keyed hash of the recipient's number.
	ContactAttr = temporal.NewSearchAttributeKeyKeyword("SwitchbackContact")
	// ChannelAttr is the channel of the latest attempt.
	ChannelAttr = temporal.NewSearchAttributeKeyKeyword("SwitchbackChannel")
	// OutcomeAttr is running until the journey ends, then its outcome.
	OutcomeAttr = temporal.NewSearchAttributeKeyKeyword("SwitchbackOutcome")
)

// SearchAttributeNames lists the names of Switchback's custom search
// attributes, all of type Keyword, for registering them on a namespace.
func SearchAttributeNames() []string {
	return []string{JourneyAttr.GetName(), ContactAttr.GetName(), ChannelAttr.GetName(), OutcomeAttr.GetName()}
}

// ContactKey returns the stable key of a contact: the hex HMAC-SHA256 of
// the phone number under secret. It lets support find a customer's journeys
// without the number ever reaching Temporal's visibility store.
func ContactKey(secret []byte, number string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(number))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
