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
	// Unlimited are the channels whose sends Temporal does not rate-limit
	// (SWITCHBACK_RATE_<CHANNEL>=0). Their sends run on the journeys' own
	// task queue instead of the channel's: the server hands such a send to
	// the worker that scheduled it, in its answer to the workflow task
	// (eager activity execution), with no trip through matching. Every
	// worker of a namespace needs the same channels configured: a retried
	// send may run on any of them.
	Unlimited []channels.Channel
}

// Journeys is the Journey workflow with the keys and channels it needs. Its Journey
// method is the workflow, registered under journeys.WorkflowType.
type Journeys struct {
	contactKey []byte
	verifyKey  []byte
	channels   *channels.Registry
	render     journeys.RenderOptions
	unlimited  map[channels.Channel]bool
}

// New returns the Journey workflow configured by opts.
func New(opts Options) *Journeys {
	m := hmac.New(sha256.New, opts.ContactKey)
	m.Write([]byte(verifyKeyLabel))
	j := &Journeys{contactKey: opts.ContactKey, verifyKey: m.Sum(nil), channels: opts.Channels,
		render:    journeys.RenderOptions{BusinessNumber: opts.BusinessNumber, Channels: opts.Channels},
		unlimited: map[channels.Channel]bool{}}
	for _, ch := range opts.Unlimited {
		j.unlimited[ch] = true
	}
	return j
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

// sendQueue returns the task queue of a send on ch: the journeys' own for
// a channel without a rate limit (Options.Unlimited), else the channel's,
// whose rate Temporal enforces across every worker. The queue is not part
// of what a replay compares: changing it changes no recorded history.
func (j *Journeys) sendQueue(ch channels.Channel) string {
	if j.unlimited[ch] {
		return journeys.TaskQueue
	}
	return journeys.ActivityTaskQueue(ch)
}
