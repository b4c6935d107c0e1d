package sms_test

import (
	"testing"

	"github.com/switchbackhq/switchback/channels/channeltest"
	"github.com/switchbackhq/switchback/channels/sms"
)

func TestDriver(t *testing.T) {
	channeltest.Run(t, channeltest.Case{
		Driver:      sms.Driver{},
		Unreachable: []string{"21211", "21614", "30005", "30006"},
		Reachable:   []string{"30003", "30007", "20429", "63038"},
	})
}
