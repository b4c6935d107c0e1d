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

// Unreachable reports Twilio's invalid, non-mobile, unknown-handset and
// landline errors.
func (Driver) Unreachable(code string) bool { return slices.Contains(unreachableCodes, code) }
