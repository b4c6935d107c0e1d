// Package webhook is the signed outbound webhook channel: an attempt
// POSTs a JSON body to a URL of the business's own system (a support
// desk, a CRM), signed per the Standard Webhooks specification.
//
// What is where:
//   - driver.go: the Driver (channels.Driver, Configurable, Sandboxed):
//     name, rate, awaits, and the sender built from the settings.
//   - content.go: an attempt's fields (url, body, headers), their checks,
//     and rendering into a Payload.
//   - client.go: the Client that sends a Payload, signs it with
//     internal/stdwebhook, and classifies the answer.
//   - sandbox.go: the Receiver, a lookalike of the business's endpoint
//     that checks signatures, records what it got, and fails on magic
//     paths.
//
// No status comes back after the answer: a 2xx means delivered. The
// receiver is the business's system, not the customer, so no answer says
// anything of whether the customer can be reached.
package webhook

import (
	"fmt"
	"net/http"

	"github.com/switchbackhq/switchback/channels"
)

// Channel is the channel's name in journeys, metrics and the store.
const Channel channels.Channel = "webhook"

// Provider names the sender in send results and errors.
const Provider = "webhook"

// SecretSetting is the setting that holds the signing secret: whsec_ and
// the base64 of a key of at least 24 bytes. The event stream signs with
// the same one.
const SecretSetting = "SWITCHBACK_WEBHOOK_SECRET"

// DefaultRate is the sends per second allowed by default: a business's
// endpoint is often a help desk's or CRM's API with a limit of a few
// hundred requests a minute. SWITCHBACK_RATE_WEBHOOK raises it.
const DefaultRate = 10

// Driver is the webhook channel as the rest of Switchback sees it.
type Driver struct{}

var (
	_ channels.Driver       = Driver{}
	_ channels.Configurable = Driver{}
	_ channels.Sandboxed    = Driver{}
)

// Channel is the package's Channel.
func (Driver) Channel() channels.Channel { return Channel }

// Address is none: the attempt's url says where the webhook goes.
func (Driver) Address() channels.AddressKind { return channels.AddressNone }

// DefaultRate is the package's DefaultRate.
func (Driver) DefaultRate() float64 { return DefaultRate }

// Unreachable is always false: the receiver is the business's system, so
// its refusal says nothing about the customer.
func (Driver) Unreachable(string) bool { return false }

// Awaits lists accepted, sent and delivered. A 2xx answer is delivery, and
// the sender reports it at once, so an attempt awaiting any of the three
// ends when the receiver answers 2xx. Read is not allowed: no receipt ever
// says a person read the webhook, and such an attempt could only time out.
func (Driver) Awaits() []channels.Status {
	return []channels.Status{channels.StatusAccepted, channels.StatusSent, channels.StatusDelivered}
}

// NewSender returns the webhook Client. With SWITCHBACK_WEBHOOK_SECRET set
// it signs with that secret and POSTs to each attempt's url. Without it,
// in `switchback dev` (env.Sandbox set), it signs with SandboxSecret and
// POSTs every webhook to the sandbox Receiver, keeping the url's path so
// that the magic paths work; set the secret to reach real URLs from dev.
// Elsewhere, without it, the channel is off (nil).
func (Driver) NewSender(env channels.Env) (channels.Sender, error) {
	var secret string
	if env.Getenv != nil {
		secret = env.Getenv(SecretSetting)
	}
	switch {
	case secret != "":
		c, err := NewClient(Options{Secret: secret})
		if err != nil {
			return nil, fmt.Errorf("webhook channel: %s: %w", SecretSetting, err)
		}
		return c, nil
	case env.Sandbox != "":
		c, err := NewClient(Options{Secret: SandboxSecret, Sandbox: env.Sandbox + "/" + string(Channel)})
		if err != nil {
			return nil, fmt.Errorf("webhook channel: sandbox: %w", err)
		}
		return c, nil
	}
	return nil, nil
}

// Sandbox returns a new Receiver that checks signatures made with
// SandboxSecret; mount it once, since each keeps its own deliveries.
func (Driver) Sandbox() http.Handler { return newReceiver(sandboxKey()) }
