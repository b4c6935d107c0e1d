// Package push is the push channel: notifications to a contact's app
// installs through Firebase Cloud Messaging (FCM) HTTP v1.
//
// What is where: driver.go is the Driver (channels.Driver, Configurable
// and Sandboxed); content.go the attempt's fields (title, body, data),
// their checks and rendering; sender.go the Sender, its settings and the
// send of one message to each device token; errors.go FCM's error
// classes; sandbox.go the FCM lookalike of `switchback dev` and tests,
// with its OAuth token endpoint and magic tokens.
//
// FCM sends no delivery receipts: a 200 means FCM accepted the message,
// nothing more, so an attempt on push may await accepted only. A token
// FCM calls unregistered is retired: the send reports it
// (channels.SendResult.Retired, channels.SendError.Retired) and the send
// activity removes it from the contact. Apps report a notification opened
// as the journey event push_opened.
package push

import (
	"net/http"

	"github.com/switchbackhq/switchback/channels"
)

// Channel is the push channel's name.
const Channel channels.Channel = "push"

// Provider names FCM in send results, errors and the event log.
const Provider = "fcm"

// DefaultRate is the sends per second of the push task queue by default.
// One send is one message to each of a contact's devices; FCM's own quota
// is 600,000 messages a minute per project, far above it.
const DefaultRate = 100

// CodeUnregistered is FCM's error code for a token that is no longer
// valid; a send whose every token was retired fails with it.
const CodeUnregistered = "UNREGISTERED"

// Driver is the push channel, sent through FCM, as the rest of Switchback
// sees it.
type Driver struct{}

var (
	_ channels.Driver       = Driver{}
	_ channels.Configurable = Driver{}
	_ channels.Sandboxed    = Driver{}
)

// Channel is "push".
func (Driver) Channel() channels.Channel { return Channel }

// Address is the contact's device tokens.
func (Driver) Address() channels.AddressKind { return channels.AddressDevice }

// DefaultRate is the package's DefaultRate.
func (Driver) DefaultRate() float64 { return DefaultRate }

// Unreachable reports UNREGISTERED: the contact's app installs are gone.
func (Driver) Unreachable(code string) bool { return code == CodeUnregistered }

// Awaits is accepted only: FCM reports nothing after it takes a message.
func (Driver) Awaits() []channels.Status { return []channels.Status{channels.StatusAccepted} }

// NewSender builds the FCM sender from env (see Settings).
func (Driver) NewSender(env channels.Env) (channels.Sender, error) {
	s, err := NewSender(env)
	if s == nil || err != nil {
		// A nil *Sender in the interface would not compare equal to nil.
		return nil, err
	}
	return s, nil
}

// Sandbox is the FCM lookalike (see Lookalike).
func (Driver) Sandbox() http.Handler { return NewLookalike() }
