package email_test

import (
	"testing"

	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/email"
)

func TestDriver(t *testing.T) {
	channeltest.Run(t, channeltest.Case{
		Driver:      email.Driver{},
		Unreachable: []string{"bounce"},
		Reachable:   []string{"bounce_blocked", "dropped", "deferred", "http_429"},
	})
}
