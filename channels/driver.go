package channels

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// AddressKind is the kind of contact address a channel sends to.
type AddressKind string

// Address kinds.
const (
	// AddressPhone is an E.164 phone number (the journey's `to`).
	AddressPhone AddressKind = "phone"
	// AddressEmail is an email address (the journey's `email`).
	AddressEmail AddressKind = "email"
	// AddressDevice is the device tokens of the contact's app installs
	// (the journey's `push_tokens`): a message goes to each.
	AddressDevice AddressKind = "device"
	// AddressNone is no contact address: the attempt names where it goes
	// (a webhook's URL).
	AddressNone AddressKind = "none"
)

// Driver is one channel as the rest of Switchback sees it, without knowing
// the channel: what journeys, eligibility, the event log, the workers'
// task queues and the commands ask of it. Each channel package under
// channels/ (whatsapp, sms, email) provides one, and a Registry lists
// them; channeltest holds the suite every driver passes.
type Driver interface {
	// Channel is the channel's name in journeys, metrics, the store and
	// its activity task queue.
	Channel() Channel
	// Address is the kind of contact address the channel sends to.
	Address() AddressKind
	// DefaultRate is the sends per second of the channel's activity task
	// queue when the operator sets none; 0 means no limit.
	DefaultRate() float64
	// Unreachable reports whether a provider's error code says that the
	// contact cannot be reached on the channel at all (not a WhatsApp
	// user, an invalid number, a hard bounce), rather than that one
	// message failed: the channel then goes last for the contact.
	Unreachable(code string) bool
	// Parse parses an attempt's own fields into the content it sends. A
	// problem is a FieldErrors naming each field that is wrong; Parse
	// checks the fields as written, before rendering.
	Parse(f Fields) (Content, error)
	// Awaits lists the statuses an attempt on the channel may await: those
	// its provider reports. The first is what an attempt that names none
	// awaits when the journeys' default (delivered) is not among them.
	Awaits() []Status
}

// Env is what a channel's provider is configured from.
type Env struct {
	// Getenv reads a setting (os.Getenv in a process).
	Getenv func(string) string
	// PublicURL is the base URL at which providers reach this process's
	// callbacks.
	PublicURL string
	// Sandbox is the base URL under which `switchback dev` serves the
	// sandbox lookalikes, each under its channel's name; "" elsewhere.
	Sandbox string
}

// Configurable is a driver that builds its channel's sender from its own
// settings.
type Configurable interface {
	// NewSender returns the channel's sender, or nil when its settings
	// are unset and there is no sandbox: the channel is off. Settings that
	// are set but wrong are an error naming the setting.
	NewSender(env Env) (Sender, error)
}

// Sandboxed is a driver with a lookalike of its provider, served by
// `switchback dev` at Env.Sandbox + "/" + the channel's name, which
// answers as the provider does, with magic addresses for its failures.
type Sandboxed interface {
	Sandbox() http.Handler
}

// Suppressing is a driver whose provider's errors can say an address
// must get nothing more on the channel (an invalid number), beyond being
// unreachable for now.
type Suppressing interface {
	Suppresses(code string) bool
}

// Simulation is how a channel's provider answers, for `simulate`: its
// name, the status it gives a send it accepts, and its error codes for a
// send it refuses and for a message that fails after it was accepted.
type Simulation struct {
	Provider        string
	Answer          Status
	Refused, Failed string
}

// Simulated is a driver that describes its provider for `simulate`.
type Simulated interface {
	Simulation() Simulation
}

// Registry is the set of channels a process knows, in the order they were
// registered. Build it once (NewRegistry) and pass it to what needs it;
// it is safe for concurrent use, since nothing changes it.
type Registry struct {
	drivers []Driver
	byName  map[Channel]Driver
}

// NewRegistry returns a registry of drivers. Each must name a channel, and
// no channel twice.
func NewRegistry(drivers ...Driver) (*Registry, error) {
	r := &Registry{byName: map[Channel]Driver{}}
	var errs []error
	for i, d := range drivers {
		name := d.Channel()
		switch _, dup := r.byName[name]; {
		case name == "":
			errs = append(errs, fmt.Errorf("channel driver %d (%T) has no name", i, d))
		case dup:
			errs = append(errs, fmt.Errorf("channel %q is registered twice", name))
		default:
			r.byName[name] = d
			r.drivers = append(r.drivers, d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("channel registry: %w", err)
	}
	return r, nil
}

// MustRegistry is NewRegistry for a list fixed in the program: it panics
// on a name missing or given twice, which is a programming error.
func MustRegistry(drivers ...Driver) *Registry {
	r, err := NewRegistry(drivers...)
	if err != nil {
		panic(err)
	}
	return r
}

// Lookup returns the driver of channel ch. A nil registry has none.
func (r *Registry) Lookup(ch Channel) (Driver, bool) {
	if r == nil {
		return nil, false
	}
	d, ok := r.byName[ch]
	return d, ok
}

// Drivers returns every driver, in registration order.
func (r *Registry) Drivers() []Driver { return append([]Driver(nil), r.drivers...) }

// Channels returns the names of the channels whose address is of kind k,
// in registration order; every channel when k is "".
func (r *Registry) Channels(k AddressKind) []Channel {
	if r == nil {
		return nil
	}
	var out []Channel
	for _, d := range r.drivers {
		if k == "" || d.Address() == k {
			out = append(out, d.Channel())
		}
	}
	return out
}

// Suppresses reports whether code, an error of channel ch's provider,
// says the address must get nothing more on ch (Suppressing).
func (r *Registry) Suppresses(ch Channel, code string) bool {
	d, _ := r.Lookup(ch)
	s, ok := d.(Suppressing)
	return ok && s.Suppresses(code)
}

// Simulation returns how ch's provider answers, as its driver describes
// it (Simulated), or a generic one named after the channel.
func (r *Registry) Simulation(ch Channel) Simulation {
	d, _ := r.Lookup(ch)
	if s, ok := d.(Simulated); ok {
		return s.Simulation()
	}
	return Simulation{Provider: string(ch), Answer: StatusAccepted, Refused: "refused", Failed: "failed"}
}

// String lists the registry's channels for a person, in registration
// order: "whatsapp, sms, email".
func (r *Registry) String() string {
	names := make([]string, 0, len(r.Channels("")))
	for _, ch := range r.Channels("") {
		names = append(names, string(ch))
	}
	return strings.Join(names, ", ")
}

// Unreachable reports whether code, an error of channel ch's provider,
// says the contact cannot be reached on ch at all. An unknown channel
// reports false.
func (r *Registry) Unreachable(ch Channel, code string) bool {
	d, ok := r.byName[ch]
	return ok && d.Unreachable(code)
}
