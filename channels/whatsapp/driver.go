package whatsapp

import "github.com/switchbackhq/switchback/channels"

// DefaultRate is WhatsApp's default throughput: 80 messages per second per
// business phone number (the Cloud API's default tier).
const DefaultRate = 80

// Driver is the WhatsApp channel as the rest of Switchback sees it
// (channels.Driver), whichever provider carries it: the Cloud API, or
// Twilio as the BSP.
type Driver struct{}

var _ channels.Driver = Driver{}

// Channel is channels.WhatsApp.
func (Driver) Channel() channels.Channel { return channels.WhatsApp }

// Address is a phone number.
func (Driver) Address() channels.AddressKind { return channels.AddressPhone }

// DefaultRate is the package's DefaultRate.
func (Driver) DefaultRate() float64 { return DefaultRate }

// Simulation is the Cloud API: 131047 (the 24-hour window is closed)
// refuses a send, 131026 fails one.
func (Driver) Simulation() channels.Simulation {
	return channels.Simulation{Provider: Provider, Answer: channels.StatusAccepted, Refused: "131047", Failed: "131026"}
}

// Unreachable reports 131026: the number is not a WhatsApp user, or its app
// is too old or has not accepted the terms.
func (Driver) Unreachable(code string) bool { return code == "131026" }
