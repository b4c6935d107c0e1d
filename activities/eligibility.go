package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// CheckEligibilityName is the registered name of the eligibility activity.
const CheckEligibilityName = "CheckEligibility"

// ServiceWindow is how long WhatsApp's customer service window stays open
// after the customer's last message: inside it free-form (session)
// messages may be sent, outside it only templates.
const ServiceWindow = 24 * time.Hour

// Reasons of Eligibility that the journey timeline and the event log show.
const (
	// ReasonNoMarketingConsent: a marketing send without consent granted
	// on the channel.
	ReasonNoMarketingConsent = "no_marketing_consent"
	// ReasonWindowClosed: free-form WhatsApp text outside the service
	// window, and no template to send instead.
	ReasonWindowClosed = "window_closed"
	// ReasonWindowClosedTemplate: outside the window, the attempt's
	// template goes instead of its text.
	ReasonWindowClosedTemplate = "window_closed: sending the template instead"
	// ReasonSuppressedPrefix starts the reason of a suppressed contact,
	// followed by the suppression's reason, e.g. "suppressed: opt-out keyword".
	ReasonSuppressedPrefix = "suppressed: "
)

// EligibilityRequest asks whether one attempt of a journey may be sent.
type EligibilityRequest struct {
	Journey string `json:"journey"`
	// Purpose is the journey's: marketing needs consent on the channel.
	Purpose journeys.Purpose `json:"purpose"`
	Channel channels.Channel `json:"channel"`
	// To is the journey's recipient number, which names the contact.
	To string `json:"to"`
	// Email is the address an email attempt goes to; suppressions
	// recorded for the address itself count too.
	Email string `json:"email,omitempty"`
	// Session marks free-form WhatsApp content (text, media,
	// interactive), which needs an open service window.
	Session bool `json:"session,omitempty"`
	// HasTemplate says the attempt also names a template, which may go
	// when the window is closed.
	HasTemplate bool `json:"has_template,omitempty"`
	// WorkflowID and Attempt name the journey's attempt: a frequency
	// cap's reservation, which a retried check takes only once.
	WorkflowID string `json:"workflow_id,omitempty"`
	Attempt    int    `json:"attempt,omitempty"`
	// MayDefer says the journey defers an attempt whose channel did not
	// reach the contact last time (Eligibility.Unreachable): such an
	// attempt takes no send of a frequency cap now.
	MayDefer bool `json:"may_defer,omitempty"`
}

// Eligibility is the answer to an EligibilityRequest.
type Eligibility struct {
	// Allowed: send. Otherwise skip the attempt for Reason.
	Allowed bool `json:"allowed"`
	// Reason says why the attempt is skipped, or, when allowed, why it
	// changed (ReasonWindowClosedTemplate).
	Reason string `json:"reason,omitempty"`
	// Class is Reason's class: store.ClassSuppressed, ClassNoConsent,
	// ClassWindowClosed or ClassFrequencyCapped for a skip, ClassTemplateInstead when the template
	// goes instead.
	Class store.ReasonClass `json:"class,omitempty"`
	// UseTemplate: send the attempt's template instead of its text.
	UseTemplate bool `json:"use_template,omitempty"`
	// Unreachable is advice, not a rule: the last outcome on this channel
	// said the contact cannot be reached there (e.g. "131026: Message
	// undeliverable"), until the contact writes on it again. Empty when
	// nothing says so. A device token added since the outcome voids it.
	Unreachable string `json:"unreachable,omitempty"`
	// Devices are the contact's stored device tokens, the latest added
	// first, for a channel whose address is channels.AddressDevice: the
	// journey sends to them when it was started with none.
	Devices []string `json:"devices,omitempty"`
}

// CheckEligibility applies the rules that come before every send, in
// order: a contact suppressed on the channel is skipped; a marketing send
// needs the latest consent for marketing on the channel to be a grant;
// free-form WhatsApp content needs the customer to have written within
// ServiceWindow, else the attempt's template goes instead, or it is
// skipped with ReasonWindowClosed; a send that Activities.Caps
// caps takes one of the cap's sends, or is skipped with class
// store.ClassFrequencyCapped when none is left; last, a WhatsApp template
// outside the window counts its recipient against Activities.Limits, or
// is skipped with class store.ClassTierLimited when the messaging limit
// has no room. It reads the clock through Activities.Now.
func (a *Activities) CheckEligibility(ctx context.Context, req EligibilityRequest) (Eligibility, error) {
	if a.Messages == nil {
		return Eligibility{}, errors.New("check eligibility: the worker has no store")
	}
	key := a.contactKey(req.To)
	keys := []string{key}
	if req.Channel == channels.Email && req.Email != "" {
		keys = append(keys, a.contactKey(store.NormalEmail(req.Email)))
	}
	for _, k := range keys {
		sups, err := a.Messages.Suppressions(ctx, k)
		if err != nil {
			return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
		}
		for _, s := range sups {
			if s.Channel == req.Channel {
				return Eligibility{Reason: ReasonSuppressedPrefix + string(s.Reason), Class: store.ClassSuppressed}, nil
			}
		}
	}
	if req.Purpose == journeys.Marketing {
		c, err := a.Messages.LatestConsent(ctx, key, req.Channel, string(journeys.Marketing))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return Eligibility{Reason: ReasonNoMarketingConsent, Class: store.ClassNoConsent}, nil
		case err != nil:
			return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
		case !c.Granted:
			return Eligibility{Reason: ReasonNoMarketingConsent, Class: store.ClassNoConsent}, nil
		}
	}
	el := Eligibility{Allowed: true}
	if req.Session && req.Channel == channels.WhatsApp {
		open, err := a.windowOpen(ctx, key)
		if err != nil {
			return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
		}
		switch {
		case open:
		case req.HasTemplate:
			el.Reason, el.Class, el.UseTemplate = ReasonWindowClosedTemplate, store.ClassTemplateInstead, true
		default:
			return Eligibility{Reason: ReasonWindowClosed, Class: store.ClassWindowClosed}, nil
		}
	}
	devices, err := a.devices(ctx, key, req.Channel)
	if err != nil {
		return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
	}
	for _, d := range devices {
		el.Devices = append(el.Devices, d.Token)
	}
	reach, err := a.Messages.Reachabilities(ctx, key)
	if err != nil {
		return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
	}
	for _, r := range reach {
		if r.Channel == req.Channel && !r.Reachable && !addedSince(devices, r.At) {
			el.Unreachable = strings.TrimPrefix(r.Code+": "+r.Reason, ": ")
		}
	}
	if el.Unreachable != "" && req.MayDefer {
		return el, nil
	}
	capped, ok, err := a.reserveSend(ctx, key, req)
	switch {
	case err != nil:
		return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
	case !ok:
		return capped, nil
	}
	if req.Channel != channels.WhatsApp || (req.Session && !el.UseTemplate) {
		return el, nil
	}
	limited, ok, err := a.reserveRecipient(ctx, key)
	switch {
	case err != nil:
		return Eligibility{}, fmt.Errorf("check eligibility: %w", err)
	case !ok:
		return limited, nil
	}
	return el, nil
}

// devices returns the contact's stored device tokens when ch's address is
// channels.AddressDevice, else none.
func (a *Activities) devices(ctx context.Context, key string, ch channels.Channel) ([]store.DeviceToken, error) {
	if a.Channels == nil {
		return nil, nil
	}
	if d, ok := a.Channels.Lookup(ch); !ok || d.Address() != channels.AddressDevice {
		return nil, nil
	}
	return a.Messages.DeviceTokens(ctx, key)
}

// addedSince reports whether a device token was added after t: the
// contact installed the app again since an outcome said it was gone.
func addedSince(devices []store.DeviceToken, t time.Time) bool {
	for _, d := range devices {
		if d.AddedAt.After(t) {
			return true
		}
	}
	return false
}

// windowOpen reports whether the contact wrote on WhatsApp less than
// ServiceWindow ago.
func (a *Activities) windowOpen(ctx context.Context, key string) (bool, error) {
	last, err := a.Messages.LastInbound(ctx, key, channels.WhatsApp)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return a.now().Before(last.Add(ServiceWindow)), nil
}

// contactKey returns the contact key of a number (or email address).
func (a *Activities) contactKey(id string) string { return journeys.ContactKey(a.ContactKey, id) }

func (a *Activities) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
