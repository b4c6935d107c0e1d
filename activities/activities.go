// Package activities holds Switchback's Temporal activities: the side
// effects of a journey, such as sending a message on a channel.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// SendName is the registered name of the send activity.
const SendName = "SendMessage"

// SendErrorType is the ApplicationError type of a send that a provider
// refused or that could not reach it; its details are a SendFailure.
const SendErrorType = "SendError"

// SendRequest asks to send one rendered message.
type SendRequest struct {
	Journey string           `json:"journey"`
	Step    string           `json:"step"`
	Message channels.Message `json:"message"`
	// Contact is the journey's phone number, which keys the contact's
	// events on a channel whose address is not a number or an email
	// (push, webhook).
	Contact string `json:"contact,omitempty"`
	// Await is the status the attempt waits for: a status webhook records
	// the message's statuses before it instead of signalling them.
	Await channels.Status `json:"await,omitempty"`
}

// SendFailure explains a failed send to the workflow, as the details of an
// ApplicationError of type SendErrorType.
type SendFailure struct {
	Provider  string `json:"provider"`
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	Permanent bool   `json:"permanent"`
	Config    bool   `json:"config,omitempty"`
	// Unknown: the request reached the provider but no answer came back;
	// the message may have been accepted. The journey waits for a status
	// instead of sending again.
	Unknown bool `json:"unknown,omitempty"`
}

// Store is the part of store.Store that the activities use.
type Store interface {
	// Eligibility reads what is known of a contact on a channel.
	Suppressions(ctx context.Context, contactKey string) ([]store.Suppression, error)
	LatestConsent(ctx context.Context, contactKey string, ch channels.Channel, purpose string) (store.Consent, error)
	LastInbound(ctx context.Context, contactKey string, ch channels.Channel) (time.Time, error)
	Reachabilities(ctx context.Context, contactKey string) ([]store.Reachability, error)
	// DeviceTokens reads a contact's push tokens (a channel whose address
	// is channels.AddressDevice); RetireDeviceTokens removes those a
	// provider called invalid.
	DeviceTokens(ctx context.Context, contactKey string) ([]store.DeviceToken, error)
	RetireDeviceTokens(ctx context.Context, tokens []string) error
	// ReserveSend takes a send of a frequency cap.
	ReserveSend(ctx context.Context, key store.CapKey, limit store.CapLimit, reservationID string, at time.Time) (bool, error)
	// ReserveRecipient counts a recipient against the messaging limit,
	// whose tier NumberStates may say.
	ReserveRecipient(ctx context.Context, contactKey string, limit int, at time.Time) (bool, error)
	NumberStates(ctx context.Context) ([]store.NumberState, error)

	// Sending and recording write the message index, the message event
	// log and what an outcome says of the contact.
	RecordMessage(ctx context.Context, ref store.MessageRef) error
	RecordEvent(ctx context.Context, e store.MessageEvent) (bool, error)
	// Events reads the event log: a retried send asks it whether the
	// provider already accepted the attempt.
	Events(ctx context.Context, f store.EventFilter) ([]store.MessageEvent, error)
	SetReachability(ctx context.Context, r store.Reachability) error
	Suppress(ctx context.Context, s store.Suppression) error
}

// Activities holds what the activities need. Register a *Activities with a
// worker; its methods are the activities.
type Activities struct {
	// Channels are the channels Switchback knows; nil knows none (no
	// error code then makes a contact unreachable).
	Channels *channels.Registry
	// Senders sends on each configured channel.
	Senders map[channels.Channel]channels.Sender
	// Messages is the store: provider message id → journey for status
	// callbacks that arrive without their correlation data, contacts,
	// consent, suppressions, the service window and the event log.
	Messages Store
	Logger   *slog.Logger
	// ContactKey keys contact keys (config.Config.ContactKeyOrDefault):
	// the same key as the webhooks' and the journeys' search attribute.
	ContactKey []byte
	// Now is the clock of eligibility and event times (default time.Now).
	Now func() time.Time
	// Caps are the frequency caps that eligibility applies; nil caps
	// nothing.
	Caps FrequencyCaps
	// Limits are the WhatsApp messaging limits that eligibility applies
	// to templates outside the service window; nil caps nothing.
	Limits *MessagingLimits
	// Metrics, if not nil, counts the journey's decisions as their events
	// are added to the message event log (see NewMetrics).
	Metrics *Metrics
}

// SendMessage sends req.Message on its channel and records the provider's
// message id. A permanent provider error is returned as a non-retryable
// ApplicationError so that the journey falls back at once; a retryable one
// is retried by the activity's retry policy. Device tokens the provider
// retired (channels.SendResult.Retired, channels.SendError.Retired) are
// removed from the store, and not returned to the journey.
func (a *Activities) SendMessage(ctx context.Context, req SendRequest) (channels.SendResult, error) {
	msg := req.Message
	sender, ok := a.Senders[msg.Channel]
	if !ok {
		return channels.SendResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("channel %q is not configured on this worker", msg.Channel), SendErrorType, nil,
			SendFailure{Code: "not_configured", Reason: fmt.Sprintf("channel %s is not configured", msg.Channel), Permanent: true, Config: true})
	}
	if res, ok := a.acceptedBefore(ctx, msg); ok {
		return res, nil
	}
	res, err := sender.Send(ctx, msg)
	var se *channels.SendError
	if errors.As(err, &se) {
		a.retire(ctx, msg.Channel, se.Retired)
	}
	if err != nil {
		return channels.SendResult{}, a.sendError(ctx, msg, err)
	}
	a.retire(ctx, msg.Channel, res.Retired)
	res.Retired = nil // the journey needs none: keep tokens out of its history
	ref := a.messageRef(req, res)
	if err := a.Messages.RecordMessage(ctx, ref); err != nil {
		// The provider has the message: failing here would send it again.
		// Callbacks still carry their correlation in most cases.
		a.logger().ErrorContext(ctx, "record message id", "provider", res.Provider, "message_id", res.MessageID, "error", err)
	}
	a.recordAccepted(ctx, ref)
	return res, nil
}

// messageRef is what the store keeps of the message req sent: its
// journey attempt, and what its events in the event log carry.
func (a *Activities) messageRef(req SendRequest, res channels.SendResult) store.MessageRef {
	msg := req.Message
	ref := store.MessageRef{
		Provider: res.Provider, MessageID: res.MessageID, WorkflowID: msg.Correlation.WorkflowID,
		Attempt: msg.Correlation.Attempt, Channel: msg.Channel, Journey: req.Journey, Step: req.Step, Await: req.Await,
	}
	if msg.Template != nil {
		ref.Template = msg.Template.Name
	}
	if msg.Email != nil {
		ref.Template = msg.Email.TemplateID
	}
	if to := a.contactOf(req); to != "" {
		ref.ContactKey = a.contactKey(to)
	}
	return ref
}

// acceptedBefore returns what the provider answered an earlier try of
// this send, when the event log says it accepted the attempt: the try
// sent it, then could not report it (the worker lost Temporal, or died),
// and sending again would give the customer a second message. Only a
// retry asks, and only of events since this activity was scheduled, so a
// journey that reuses an old id finds nothing of its predecessor. A store
// that cannot answer lets the send go: at least once.
func (a *Activities) acceptedBefore(ctx context.Context, msg channels.Message) (channels.SendResult, bool) {
	if !activity.IsActivity(ctx) {
		return channels.SendResult{}, false // called directly, as a test does
	}
	info := activity.GetInfo(ctx)
	corr := msg.Correlation
	if info.Attempt < 2 || corr.WorkflowID == "" {
		return channels.SendResult{}, false
	}
	// A minute before: the worker's clock, which dated the event, may be behind the server's.
	evs, err := a.Messages.Events(ctx, store.EventFilter{WorkflowID: corr.WorkflowID, Since: info.ScheduledTime.Add(-time.Minute)})
	if err != nil {
		a.logger().WarnContext(ctx, "read the event log before a retried send", "error", err)
		return channels.SendResult{}, false
	}
	for _, e := range evs {
		if e.Status == store.EventAccepted && e.Attempt == corr.Attempt && e.Channel == msg.Channel {
			a.logger().InfoContext(ctx, "a retried send was accepted by its earlier try: not sent again",
				"provider", e.Provider, "message_id", e.MessageID)
			return channels.SendResult{Provider: e.Provider, MessageID: e.MessageID, Status: channels.StatusAccepted}, true
		}
	}
	return channels.SendResult{}, false
}

// retire removes device tokens a provider called invalid from every
// contact. It is part of the send: a failure is logged, never returned,
// and the tokens are retired again by a later send.
func (a *Activities) retire(ctx context.Context, ch channels.Channel, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	if err := a.Messages.RetireDeviceTokens(ctx, tokens); err != nil {
		a.logger().ErrorContext(ctx, "retire device tokens", "channel", ch, "tokens", len(tokens), "error", err)
	}
}

func (a *Activities) sendError(ctx context.Context, msg channels.Message, err error) error {
	var se *channels.SendError
	if !errors.As(err, &se) {
		// Unknown failures are retried: nothing says the message was accepted.
		return temporal.NewApplicationErrorWithCause(err.Error(), SendErrorType, err,
			SendFailure{Code: "unknown", Reason: err.Error()})
	}
	f := SendFailure{Provider: se.Provider, Code: se.Code, Reason: se.Reason, Permanent: se.Permanent || se.Config || se.Unknown, Config: se.Config, Unknown: se.Unknown}
	if se.Config {
		a.logger().ErrorContext(ctx, "provider configuration problem: check credentials and permissions",
			"channel", msg.Channel, "provider", se.Provider, "error_code", se.Code, "reason", se.Reason,
			"attempt", activity.GetInfo(ctx).Attempt)
	}
	if f.Permanent {
		// An unknown outcome is not retried either: the provider may have
		// the message, and a second send could reach the customer twice.
		return temporal.NewNonRetryableApplicationError(se.Error(), SendErrorType, err, f)
	}
	return temporal.NewApplicationErrorWithOptions(se.Error(), SendErrorType, temporal.ApplicationErrorOptions{
		Cause:   err,
		Details: []any{f},
		// The provider's Retry-After, when it gave one; else the retry policy.
		NextRetryDelay: se.RetryAfter,
	})
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}
