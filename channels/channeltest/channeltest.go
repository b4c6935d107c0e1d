// Package channeltest is the suite every channel driver passes, as
// riverdrivertest is for river's database drivers: a channel package runs
// Run from its own tests, and a new channel is done when it passes.
//
// Today the suite checks what the rest of Switchback reads from a driver
// (channels.Driver); it grows with the interface.
package channeltest

import (
	"regexp"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

// Case is one driver under test, with the facts its package states.
type Case struct {
	Driver channels.Driver
	// Unreachable are provider error codes that mean the contact cannot
	// be reached on the channel at all.
	Unreachable []string
	// Reachable are provider error codes of one failed message (a rate
	// limit, a template problem, a transient failure): the contact may be
	// reached next time.
	Reachable []string
}

// name is what a channel's name must look like: it names a task queue, a
// metric label value and a store column value.
var name = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Run runs the suite against c.Driver.
func Run(t *testing.T, c Case) {
	t.Helper()
	d := c.Driver
	t.Run("Name", func(t *testing.T) {
		if !name.MatchString(string(d.Channel())) {
			t.Errorf("channel name %q: want lower-case letters, digits and _", d.Channel())
		}
		reg, err := channels.NewRegistry(d)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := reg.Lookup(d.Channel()); !ok || got.Channel() != d.Channel() {
			t.Errorf("a registry of the driver does not find %q", d.Channel())
		}
	})
	t.Run("Address", func(t *testing.T) {
		switch d.Address() {
		case channels.AddressPhone, channels.AddressEmail:
		default:
			t.Errorf("address kind %q is not one Switchback knows", d.Address())
		}
	})
	t.Run("DefaultRate", func(t *testing.T) {
		if r := d.DefaultRate(); r < 0 {
			t.Errorf("default rate %v: want sends per second, or 0 for no limit", r)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		if len(c.Unreachable) == 0 || len(c.Reachable) == 0 {
			t.Fatal("the case names no unreachable or no reachable code: the suite would check nothing")
		}
		for _, code := range c.Unreachable {
			if !d.Unreachable(code) {
				t.Errorf("error %q: reachable, want unreachable", code)
			}
		}
		for _, code := range append([]string{""}, c.Reachable...) {
			if d.Unreachable(code) {
				t.Errorf("error %q: unreachable, want reachable", code)
			}
		}
	})
}
