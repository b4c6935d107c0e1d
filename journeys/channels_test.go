package journeys

import (
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// testChannels are the channels the tests' journeys use.
func testChannels() *channels.Registry {
	return channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{})
}
