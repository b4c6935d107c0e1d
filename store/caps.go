package store

import (
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// CapKey names what a frequency cap counts: one contact's sends on one
// channel for one purpose (marketing, utility, ...).
type CapKey struct {
	ContactKey string
	Channel    channels.Channel
	Purpose    string
}

// CapLimit is a frequency cap's limit: at most Sends sends within any
// Window (a rolling window ending at the send).
type CapLimit struct {
	Sends  int
	Window time.Duration
}
