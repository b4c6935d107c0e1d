// Package sms is the SMS channel: its driver (channels.Driver). Its
// provider, Twilio, is channels/twilio.
package sms

import (
	"slices"

	"github.com/switchbackhq/switchback/channels"
)

// Twilio's default send rates, per second.
const (
	// DefaultRate is one long-code sender number's.
	DefaultRate = 1
	// DefaultRateWithService is a Messaging Service's, whose sender pool
	// spreads the load.
	DefaultRateWithService = 10
)

// unreachableCodes are Twilio's errors that say the number cannot take SMS
// at all: invalid, not a mobile number, unknown handset, landline.
var unreachableCodes = []string{"21211", "21614", "30005", "30006"}

// Driver is the SMS channel, sent through Twilio, as the rest of
// Switchback sees it (channels.Driver).
type Driver struct{}

var _ channels.Driver = Driver{}

// Channel is channels.SMS.
func (Driver) Channel() channels.Channel { return channels.SMS }

// Address is a phone number.
func (Driver) Address() channels.AddressKind { return channels.AddressPhone }

// DefaultRate is one sender number's rate (DefaultRate).
func (Driver) DefaultRate() float64 { return DefaultRate }

// Simulation is Twilio: 21211 (invalid number) refuses a send, 30003
// (unreachable handset) fails one.
func (Driver) Simulation() channels.Simulation {
	return channels.Simulation{Provider: "twilio", Answer: channels.StatusAccepted, Refused: "21211", Failed: "30003"}
}

// Suppresses reports 21211: the number is not a valid phone number, and
// will not become one.
func (Driver) Suppresses(code string) bool { return code == "21211" }

// Unreachable reports Twilio's invalid, non-mobile, unknown-handset and
// landline errors.
func (Driver) Unreachable(code string) bool { return slices.Contains(unreachableCodes, code) }

// MaxText is the longest SMS body Twilio accepts, in characters (it is
// sent as up to ten segments).
const MaxText = 1600

// Spec is an SMS attempt's fields.
type Spec struct {
	// Text is the message, a template over the journey's variables.
	Text string `json:"text"`
}

// Parse parses an SMS attempt's fields: text, and nothing else.
func (Driver) Parse(f channels.Fields) (channels.Content, error) {
	var s Spec
	if err := f.Decode(&s); err != nil {
		return nil, err
	}
	if s.Text == "" {
		return nil, channels.FieldErrors{{Field: ".text", Msg: "an sms attempt needs text"}}
	}
	return s, nil
}

// Awaits are every receipt but read: Twilio reports sent and delivered.
func (Driver) Awaits() []channels.Status {
	return []channels.Status{channels.StatusAccepted, channels.StatusSent, channels.StatusDelivered}
}

// Texts is the text.
func (s Spec) Texts() []channels.Text { return []channels.Text{{Field: ".text", Text: s.Text}} }

// Render fills msg.Text; a text longer than MaxText is an error.
func (s Spec) Render(r channels.Renderer, msg *channels.Message) error {
	msg.Text = r.Text(".text", s.Text)
	return channels.CheckLength(".text", msg.Text, MaxText, "SMS")
}

// Describe says text message.
func (Spec) Describe() string { return "text message" }
