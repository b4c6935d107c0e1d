// Package channeltest is the suite every channel driver passes, as
// riverdrivertest is for river's database drivers: a channel package runs
// Run from its own tests, and a new channel is done when it passes.
//
// The suite checks what the rest of Switchback reads from a driver
// (channels.Driver): its name, address kind, rate and awaits; that the
// attempt fields it documents parse and render, and that wrong ones are
// refused naming the field; that its sender, pointed at the channel's
// sandbox lookalike, classifies each kind of failure (permanent,
// retryable, unknown outcome, unreachable); and that its provider's
// status callbacks, duplicated and out of order, add up to the last
// status.
package channeltest

import (
	"context"
	"errors"
	htmltemplate "html/template"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/switchbackhq/switchback/channels"
)

// Case is one driver under test, with the facts its package states.
type Case struct {
	Driver channels.Driver
	// Unreachable are provider error codes that mean the contact cannot
	// be reached on the channel at all. Empty only for a channel whose
	// address is AddressNone (a webhook): no contact address is sent to,
	// so no answer says one is unreachable.
	Unreachable []string
	// Reachable are provider error codes of one failed message (a rate
	// limit, a template problem, a transient failure): the contact may be
	// reached next time.
	Reachable []string
	// Specs are attempt fields, valid and not, with what they render to.
	// The suite needs at least one valid and one invalid.
	Specs []Spec
	// Send checks the channel's sender against its sandbox lookalike.
	Send Send
	// Callbacks checks the parsing of its provider's status callbacks;
	// nil for a channel whose provider sends none (push, webhook).
	Callbacks *Callbacks
}

// Spec is one attempt's fields and what becomes of them.
type Spec struct {
	Name   string
	Fields channels.Fields
	// Vars are the journey's variables when rendering.
	Vars map[string]string
	// ParseErr is the field of the FieldError Parse must return ("." for
	// the attempt as a whole), or "" when the fields are valid.
	ParseErr string
	// RenderErr marks valid fields whose rendering must fail (a limit the
	// rendered text passes, a variable Vars lacks).
	RenderErr bool
	// Check, for a spec that renders, checks the rendered message.
	Check func(t *testing.T, msg channels.Message)
}

// Send is the channel's sender, pointed at its sandbox lookalike, and the
// addresses at which the lookalike answers with each outcome.
type Send struct {
	// Sender sends to the lookalike.
	Sender channels.Sender
	// Message returns a rendered message to address to (To, or Devices
	// for AddressDevice; a channel with AddressNone puts it where its
	// content says).
	Message func(to string) channels.Message
	// OK is accepted. Permanent is refused for good; Retryable fails in a
	// way worth retrying; Unknown gets no answer after the request was
	// written; Unreachable is refused with a code the driver calls
	// unreachable. "" where the provider has no such outcome; OK,
	// Permanent and Retryable are required.
	OK, Permanent, Retryable, Unknown, Unreachable string
}

// Callbacks builds a provider's status callbacks and parses them as the
// webhook handler does.
type Callbacks struct {
	// Statuses are those the provider reports for a message that gets
	// through, in the order they happen.
	Statuses []channels.Status
	// Build returns the provider's callback saying message id reached
	// status s, signed as the provider signs it.
	Build func(t *testing.T, id string, s channels.Status) *http.Request
	// Parse parses a callback into the status updates it holds.
	Parse func(r *http.Request) ([]channels.StatusUpdate, error)
}

// Run runs the suite against c.Driver.
func Run(t *testing.T, c Case) {
	t.Helper()
	t.Run("Name", func(t *testing.T) { checkName(t, c.Driver) })
	t.Run("Address", func(t *testing.T) {
		switch c.Driver.Address() {
		case channels.AddressPhone, channels.AddressEmail, channels.AddressDevice, channels.AddressNone:
		default:
			t.Errorf("address kind %q is not one Switchback knows", c.Driver.Address())
		}
	})
	t.Run("DefaultRate", func(t *testing.T) {
		if r := c.Driver.DefaultRate(); r < 0 {
			t.Errorf("default rate %v: want sends per second, or 0 for no limit", r)
		}
	})
	t.Run("Awaits", func(t *testing.T) { checkAwaits(t, c.Driver) })
	t.Run("Unreachable", func(t *testing.T) { checkUnreachable(t, c) })
	t.Run("Specs", func(t *testing.T) { checkSpecs(t, c) })
	t.Run("Send", func(t *testing.T) { checkSend(t, c) })
	t.Run("Callbacks", func(t *testing.T) {
		if c.Callbacks == nil {
			t.Skip("the provider sends no status callbacks")
		}
		checkCallbacks(t, c.Callbacks)
	})
}

func checkName(t *testing.T, d channels.Driver) {
	if !d.Channel().Valid() {
		t.Errorf("channel name %q: want lower-case letters, digits and _", d.Channel())
	}
	reg, err := channels.NewRegistry(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := reg.Lookup(d.Channel()); !ok || got.Channel() != d.Channel() {
		t.Errorf("a registry of the driver does not find %q", d.Channel())
	}
}

func checkAwaits(t *testing.T, d channels.Driver) {
	aw := d.Awaits()
	if len(aw) == 0 {
		t.Fatal("no status may be awaited: an attempt could never end well")
	}
	for _, s := range aw {
		if !s.Valid() || s == channels.StatusFailed {
			t.Errorf("awaits %q: want accepted, sent, delivered or read", s)
		}
	}
}

func checkUnreachable(t *testing.T, c Case) {
	if len(c.Reachable) == 0 {
		t.Fatal("the case names no reachable code: the suite would check nothing")
	}
	if len(c.Unreachable) == 0 && c.Driver.Address() != channels.AddressNone {
		t.Fatal("the case names no unreachable code: only a channel with no contact address (AddressNone) has none")
	}
	for _, code := range c.Unreachable {
		if !c.Driver.Unreachable(code) {
			t.Errorf("error %q: reachable, want unreachable", code)
		}
	}
	for _, code := range append([]string{""}, c.Reachable...) {
		if c.Driver.Unreachable(code) {
			t.Errorf("error %q: unreachable, want reachable", code)
		}
	}
}

func checkSpecs(t *testing.T, c Case) {
	valid := slices.IndexFunc(c.Specs, func(s Spec) bool { return s.ParseErr == "" })
	invalid := slices.IndexFunc(c.Specs, func(s Spec) bool { return s.ParseErr != "" })
	if valid < 0 || invalid < 0 {
		t.Fatal("the case needs at least one valid and one invalid spec")
	}
	for _, s := range c.Specs {
		t.Run(s.Name, func(t *testing.T) { checkSpec(t, c.Driver, s) })
	}
}

func checkSpec(t *testing.T, d channels.Driver, s Spec) {
	content, err := d.Parse(s.Fields)
	if s.ParseErr != "" {
		var fe channels.FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("Parse: %v, want FieldErrors naming %q", err, s.ParseErr)
		}
		want := strings.TrimPrefix(s.ParseErr, ".")
		if !slices.ContainsFunc(fe, func(e channels.FieldError) bool { return strings.TrimPrefix(e.Field, ".") == want }) {
			t.Errorf("Parse: %v, want a problem of field %q", err, s.ParseErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if content.Describe() == "" {
		t.Error("Describe is empty: the timeline would not say what was sent")
	}
	for _, tx := range content.Texts() {
		if tx.Field == "" || !strings.HasPrefix(tx.Field, ".") {
			t.Errorf("text field %q: want a path under the attempt, such as .text", tx.Field)
		}
	}
	r := &renderer{vars: s.Vars}
	msg := channels.Message{Channel: d.Channel()}
	err = content.Render(r, &msg)
	if err == nil {
		err = r.err
	}
	switch {
	case s.RenderErr && err == nil:
		t.Fatal("Render: no error, want one")
	case !s.RenderErr && err != nil:
		t.Fatalf("Render: %v", err)
	case err == nil && s.Check != nil:
		s.Check(t, msg)
	}
}

// renderer is a channels.Renderer over text/template and html/template,
// as journeys renders (missing variables are errors).
type renderer struct {
	vars map[string]string
	err  error
}

func (r *renderer) Text(field, text string) string {
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	return r.exec(field, err, func(b *strings.Builder) error { return t.Execute(b, r.vars) })
}

func (r *renderer) HTML(field, text string) string {
	t, err := htmltemplate.New(field).Option("missingkey=error").Parse(text)
	return r.exec(field, err, func(b *strings.Builder) error { return t.Execute(b, r.vars) })
}

func (r *renderer) exec(field string, parseErr error, run func(*strings.Builder) error) string {
	if r.err != nil {
		return ""
	}
	var b strings.Builder
	err := parseErr
	if err == nil {
		err = run(&b)
	}
	if err != nil {
		r.err = errors.New(field + ": " + err.Error())
	}
	return b.String()
}

func checkSend(t *testing.T, c Case) {
	s := c.Send
	if s.Sender == nil || s.Message == nil || s.OK == "" || s.Permanent == "" || s.Retryable == "" {
		t.Fatal("the case needs a sender, a message, and the OK, Permanent and Retryable addresses")
	}
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		res, err := s.Sender.Send(ctx, s.Message(s.OK))
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if res.Provider == "" || res.MessageID == "" || !res.Status.Valid() || res.Status == channels.StatusFailed {
			t.Errorf("result %+v: want a provider, a message id and a status short of failed", res)
		}
	})
	outcomes := []struct {
		name, to string
		check    func(*channels.SendError) bool
		want     string
	}{
		{"Permanent", s.Permanent, func(e *channels.SendError) bool { return e.Permanent && !e.Unknown }, "permanent"},
		{"Retryable", s.Retryable, func(e *channels.SendError) bool { return !e.Permanent && !e.Unknown }, "retryable"},
		{"Unknown", s.Unknown, func(e *channels.SendError) bool { return e.Unknown && !e.Permanent }, "of unknown outcome"},
		{"Unreachable", s.Unreachable, func(e *channels.SendError) bool { return e.Permanent && c.Driver.Unreachable(e.Code) }, "permanent with an unreachable code"},
	}
	for _, o := range outcomes {
		t.Run(o.name, func(t *testing.T) {
			if o.to == "" {
				t.Skip("the provider has no such outcome")
			}
			_, err := s.Sender.Send(ctx, s.Message(o.to))
			var se *channels.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send: %v, want a *channels.SendError", err)
			}
			if !o.check(se) || se.Channel != c.Driver.Channel() || se.Code == "" {
				t.Errorf("Send: %+v, want a %s error of channel %s with a code", se, o.want, c.Driver.Channel())
			}
		})
	}
}

func checkCallbacks(t *testing.T, cb *Callbacks) {
	if len(cb.Statuses) == 0 {
		t.Fatal("the case names no statuses")
	}
	const id = "msg-channeltest-1"
	var reqs []*http.Request
	for _, s := range cb.Statuses {
		// Each callback twice: providers retry what they think was lost.
		reqs = append(reqs, cb.Build(t, id, s), cb.Build(t, id, s))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
		var at channels.Status
		for _, r := range reqs {
			ups, err := cb.Parse(clone(t, r))
			if err != nil {
				t.Fatalf("round %d: parse a %s callback: %v", round, r.URL.Path, err)
			}
			for _, u := range ups {
				if u.MessageID != id {
					t.Errorf("round %d: update names message %q, want %q", round, u.MessageID, id)
				}
				if at.Advances(u.Status) {
					at = u.Status
				}
			}
		}
		if want := cb.Statuses[len(cb.Statuses)-1]; at != want {
			t.Errorf("round %d: duplicated and reordered callbacks end at %q, want %q", round, at, want)
		}
	}
}

// clone returns a copy of r whose body can be read again.
func clone(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	c := r.Clone(r.Context())
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		c.Body = body
	}
	return c
}
