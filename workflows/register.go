package workflows

import (
	"crypto/hmac"
	"crypto/sha256"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// verifyKeyLabel separates the key of code hashes from the contact key it
// is derived from: the same secret never keys two kinds of hash.
const verifyKeyLabel = "switchback/verify-code/v1"

// Options configure the Journey workflow on a worker.
type Options struct {
	// ContactKey is the worker's contact key (SWITCHBACK_CONTACT_KEY). It
	// keys the SwitchbackContact search attribute of a journey started
	// without one, and, through a key derived from it, the hash a journey
	// keeps of its code. Every worker of a namespace needs the same key:
	// a replay on a worker with another key would check codes differently.
	ContactKey []byte
	// Channels are the channels journeys send on (app.Channels): their
	// drivers say which of a journey's addresses each channel sends to.
	Channels *channels.Registry
	// BusinessNumber is the WhatsApp business number, E.164, that the
	// wa_link template function links to (WHATSAPP_BUSINESS_NUMBER).
	// Empty: a journey that uses wa_link fails at its start.
	BusinessNumber string
}

// Journeys is the Journey workflow with the keys and channels it needs. Its Journey
// method is the workflow, registered under journeys.WorkflowType.
type Journeys struct {
	contactKey []byte
	verifyKey  []byte
	channels   *channels.Registry
	render     journeys.RenderOptions
}

// New returns the Journey workflow configured by opts.
func New(opts Options) *Journeys {
	m := hmac.New(sha256.New, opts.ContactKey)
	m.Write([]byte(verifyKeyLabel))
	return &Journeys{contactKey: opts.ContactKey, verifyKey: m.Sum(nil), channels: opts.Channels,
		render: journeys.RenderOptions{BusinessNumber: opts.BusinessNumber, Channels: opts.Channels}}
}

// Registrar registers workflows: a worker.Worker, a replayer, a test
// environment.
type Registrar interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers Switchback's workflows with r, configured by opts:
// Journey and Broadcast.
func Register(r Registrar, opts Options) {
	r.RegisterWorkflowWithOptions(New(opts).Journey, workflow.RegisterOptions{Name: journeys.WorkflowType})
	r.RegisterWorkflowWithOptions(Broadcast, workflow.RegisterOptions{Name: BroadcastWorkflowType})
}

// MissingSettingType is the type of the non-retryable ApplicationError
// that fails a journey at its start when the worker lacks a setting the
// journey needs (WHATSAPP_BUSINESS_NUMBER for wa_link).
const MissingSettingType = "MissingSetting"
