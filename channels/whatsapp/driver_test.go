package whatsapp_test

import (
	"testing"

	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/whatsapp"
)

func TestDriver(t *testing.T) {
	channeltest.Run(t, channeltest.Case{
		Driver:      whatsapp.Driver{},
		Unreachable: []string{"131026"},
		Reachable:   []string{"131047", "130429", "132000", "131049"},
	})
}
