package email

import "github.com/switchbackhq/switchback/channels"

// DefaultRate is the sends per second Switchback allows SendGrid by
// default.
const DefaultRate = 100

// Driver is the email channel, sent through SendGrid, as the rest of
// Switchback sees it (channels.Driver).
type Driver struct{}

var _ channels.Driver = Driver{}

// Channel is channels.Email.
func (Driver) Channel() channels.Channel { return channels.Email }

// Address is an email address.
func (Driver) Address() channels.AddressKind { return channels.AddressEmail }

// DefaultRate is the package's DefaultRate.
func (Driver) DefaultRate() float64 { return DefaultRate }

// Simulation is SendGrid: HTTP 400 refuses a send, a bounce fails one.
func (Driver) Simulation() channels.Simulation {
	return channels.Simulation{Provider: Provider, Answer: channels.StatusAccepted, Refused: "http_400", Failed: "bounce"}
}

// Unreachable reports a hard bounce; a blocked bounce ("bounce_blocked")
// may pass later.
func (Driver) Unreachable(code string) bool { return code == "bounce" }
