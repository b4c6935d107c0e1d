package app

import (
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/webhook"
	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// ChannelNames lists the channels of Channels, for help and errors:
// "whatsapp, sms, email".
func ChannelNames() string { return Channels().String() }

// Channels returns the registry of every channel Switchback knows, in the
// order a worker starts their task queues: a channel is registered here in
// one line.
func Channels() *channels.Registry {
	return channels.MustRegistry(
		whatsapp.Driver{},
		sms.Driver{},
		email.Driver{},
		push.Driver{},
		webhook.Driver{},
	)
}
