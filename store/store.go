// Package store keeps what Switchback must remember outside Temporal: the
// contacts it writes to and their devices' push tokens, their consent
// history, suppressions, which channels reach them, when they last wrote
// to us (the 24-hour window),
// which journey sent which provider message, which inbound messages were
// received (so that a replay changes nothing), the log of every message
// event, and the registry of WhatsApp templates.
//
// Store is the one interface; store/sqlite (the default of `switchback
// dev`) and store/postgres implement it with the same migrations, and
// store/storetest is the suite both pass. Its users take only the part
// they use, in an interface of their own (activities.Store,
// webhooks.Store, templates.Store).
//
// Contacts are identified by their contact key, the keyed hash of their
// phone number (journeys.ContactKey) that is also the SwitchbackContact
// search attribute. The store never computes keys: callers do, with the
// configured secret.
package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// ErrNotFound is returned when the store has no record of what was asked.
var ErrNotFound = errors.New("not found")

// MessageRef ties a provider's message id to the journey attempt that sent it.
type MessageRef struct {
	Provider   string
	MessageID  string
	WorkflowID string
	Attempt    int
	Channel    channels.Channel
	// Journey, Step, Template and ContactKey are those of the message's
	// events in the event log.
	Journey    string
	Step       string
	Template   string
	ContactKey string
	// Await is the status the attempt waits for; empty when unknown (every
	// status then goes to the journey).
	Await channels.Status
	// Awaited is set once a status reaching Await went to the journey
	// (MarkAwaited).
	Awaited bool
}

// Contact is a person Switchback writes to.
type Contact struct {
	// Key is the contact key: journeys.ContactKey of Number.
	Key string `json:"key"`
	// Number is the E.164 phone number, e.g. +15551234567.
	Number string `json:"number,omitempty"`
	// Email is kept lower-case.
	Email string `json:"email,omitempty"`
	// Locale is a language tag such as en_US.
	Locale string `json:"locale,omitempty"`
	// TimeZone is an IANA time zone such as Europe/Berlin.
	TimeZone string `json:"timezone,omitempty"`
	// Tags label the contact for segments, e.g. vip (see ValidTag);
	// UpsertContact adds them to the stored ones. Reads return them sorted.
	Tags []string `json:"tags,omitempty"`
}

// Consent is one entry of a contact's consent history for one channel and
// purpose. Entries are never overwritten; the latest one is in force.
type Consent struct {
	ContactKey string           `json:"contact_key"`
	Channel    channels.Channel `json:"channel"`
	// Purpose is authentication, utility or marketing.
	Purpose string `json:"purpose"`
	// Granted is false for a withdrawal.
	Granted bool `json:"granted"`
	// Source says where it came from, e.g. "checkout checkbox",
	// "inbound keyword STOP", "import customers.csv".
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// State returns "granted" or "withdrawn".
func (c Consent) State() string {
	if c.Granted {
		return "granted"
	}
	return "withdrawn"
}

// SuppressionReason says why a contact must not be written to on a channel.
type SuppressionReason string

// Suppression reasons.
const (
	ReasonOptOut        SuppressionReason = "opt-out keyword"
	ReasonHardBounce    SuppressionReason = "hard bounce"
	ReasonSpamReport    SuppressionReason = "spam report"
	ReasonUnsubscribe   SuppressionReason = "unsubscribe"
	ReasonInvalidNumber SuppressionReason = "invalid number"
	ReasonBlocked       SuppressionReason = "blocked"
)

// Suppression stops every send to a contact on a channel. A contact may be
// suppressed on a channel for several reasons at once; each is lifted on
// its own.
type Suppression struct {
	ContactKey string            `json:"contact_key"`
	Channel    channels.Channel  `json:"channel"`
	Reason     SuppressionReason `json:"reason"`
	// Source says what reported it, e.g. "inbound keyword STOP".
	Source string    `json:"source,omitempty"`
	At     time.Time `json:"at"`
}

// Reachability is what the latest outcome on a channel says about a
// contact: a message delivered, or a failure such as WhatsApp's 131026
// (not a WhatsApp user).
type Reachability struct {
	ContactKey string           `json:"contact_key"`
	Channel    channels.Channel `json:"channel"`
	Reachable  bool             `json:"reachable"`
	// Code and Reason explain an unreachable channel.
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// InboundClaim is the record of an inbound message (Store.ClaimInbound).
type InboundClaim struct {
	// At is the message's time: the provider's, or when it first arrived
	// if the provider gives none (Twilio).
	At time.Time
	// Done says the message was received in full before: receiving it
	// again must change nothing.
	Done bool
}

// EventStatus is what a message event reports.
type EventStatus string

// Message event statuses: the delivery statuses of channels.Status, then
// what journeys and customers do.
const (
	EventAccepted  = EventStatus(channels.StatusAccepted)
	EventSent      = EventStatus(channels.StatusSent)
	EventDelivered = EventStatus(channels.StatusDelivered)
	EventRead      = EventStatus(channels.StatusRead)
	EventFailed    = EventStatus(channels.StatusFailed)
	// EventSkipped: eligibility refused the attempt (ErrorReason says
	// why, ReasonClass its class).
	EventSkipped EventStatus = "skipped"
	// EventFallback: the attempt gave up and the next one starts
	// (ErrorReason says why, ReasonClass its class).
	EventFallback EventStatus = "fallback"
	// EventReply: the customer wrote back while the journey ran.
	EventReply EventStatus = "reply"
	// EventConverted: a goal event arrived.
	EventConverted EventStatus = "converted"
	// EventBroadcastPaused: a broadcast of the journey paused itself
	// (WorkflowID is the broadcast's id; ReasonClass and ErrorReason say
	// why).
	EventBroadcastPaused EventStatus = "broadcast_paused"
)

// MessageEvent is one entry of the message event log: an attempt, a
// status, a skip, a reply. Events are deduplicated on (Provider,
// MessageID, Status). Events that have no provider message id (a skip, a
// send the provider refused) use Provider "switchback" and LocalMessageID.
type MessageEvent struct {
	Provider    string           `json:"provider"`
	MessageID   string           `json:"message_id"`
	Status      EventStatus      `json:"status"`
	Journey     string           `json:"journey,omitempty"`
	WorkflowID  string           `json:"workflow_id,omitempty"`
	Step        string           `json:"step,omitempty"`
	Attempt     int              `json:"attempt,omitempty"`
	Channel     channels.Channel `json:"channel,omitempty"`
	Template    string           `json:"template,omitempty"`
	ContactKey  string           `json:"contact_key,omitempty"`
	ErrorCode   string           `json:"error_code,omitempty"`
	ErrorReason string           `json:"error_reason,omitempty"`
	// ReasonClass is ErrorReason's class, for metrics and reports.
	ReasonClass     ReasonClass `json:"reason_class,omitempty"`
	PricingCategory string      `json:"pricing_category,omitempty"`
	At              time.Time   `json:"at"`
}

// LocalProvider is the Provider of message events that no provider
// numbered.
const LocalProvider = "switchback"

// LocalMessageID returns the MessageID of an event that no provider
// numbered, such as a skipped attempt: unique per workflow and attempt.
func LocalMessageID(workflowID string, attempt int) string {
	return workflowID + "#" + strconv.Itoa(attempt)
}

// NormalEmail is the form of an email address that the store keeps and
// that contact keys of email addresses hash: trimmed and lower-case.
func NormalEmail(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// EventFilter selects message events. Zero fields select everything.
type EventFilter struct {
	Journey    string
	WorkflowID string
	ContactKey string
	// Since keeps events at or after it.
	Since time.Time
	// Newest keeps only the newest n events (still returned oldest first).
	Newest int
}

// Deliveries counts journeys by what the message event log says of them so
// far.
type Deliveries struct {
	// Delivered counts journeys with a delivered or read message.
	Delivered int `json:"delivered"`
	// Failed counts journeys with a failed message and none delivered:
	// a journey whose fallback is still under way counts here until its
	// next channel delivers.
	Failed int `json:"failed"`
}

// Options configures a store when it is opened (sqlite.OpenWith,
// postgres.OpenWith).
type Options struct {
	// EventOutbox makes RecordEvent add each new event to the event
	// stream's outbox, in the same transaction (see OutboxEvent). Every
	// process that records events must set it alike: `switchback` sets it
	// when SWITCHBACK_EVENTS_URL is set.
	EventOutbox bool
}

// OutboxEvent is a message event waiting in the outbox to be delivered to
// the event stream. A dispatcher claims due events for a lease
// (Store.ClaimOutbox), then acknowledges each delivered one
// (Store.AckOutbox) or puts it back until a later time
// (Store.RetryOutbox). An event whose lease ran out is due again: delivery
// is at least once.
type OutboxEvent struct {
	// Seq numbers the event in the event log.
	Seq int64
	// Claims counts the claims of the event, this one included.
	Claims int
	// Event is the message event.
	Event MessageEvent
}

// Template is one WhatsApp message template in one language, as the
// template registry (package templates) keeps it.
type Template struct {
	Name           string
	Language       string
	Category       string
	Status         string
	RejectedReason string
	// Data is the template's JSON (components and the rest), which the
	// registry encodes; the fields above override what it says.
	Data []byte
	// WABAID and SyncedAt say which account it was synced from, and when.
	WABAID   string
	SyncedAt time.Time
}

// TemplateStatus is what a template status webhook changes.
type TemplateStatus struct {
	Status string
	// Category, when not empty, replaces the template's category.
	Category       string
	RejectedReason string
}

// Store is what Switchback keeps. Implementations are safe for concurrent
// use. Every method that finds one record returns an error wrapping
// ErrNotFound when there is none.
type Store interface {
	// RecordMessage remembers ref; recording the same message again is not an error.
	RecordMessage(ctx context.Context, ref MessageRef) error
	// LookupMessage finds the journey attempt that sent a provider's message.
	LookupMessage(ctx context.Context, provider, messageID string) (MessageRef, error)
	// MarkAwaited notes that a status reaching the message's Await went to
	// its journey; a message not recorded is not an error.
	MarkAwaited(ctx context.Context, provider, messageID string) error

	// UpsertContact creates c or updates its record; empty fields of c
	// leave the stored ones as they are, and its tags are added to the
	// stored ones.
	UpsertContact(ctx context.Context, c Contact) error
	// Contact returns the contact with the key.
	Contact(ctx context.Context, key string) (Contact, error)
	// ContactByEmail returns a contact with the email address (any case).
	ContactByEmail(ctx context.Context, email string) (Contact, error)

	// AddDeviceTokens adds push tokens to a contact's, added at at;
	// adding a token the contact has updates its time.
	AddDeviceTokens(ctx context.Context, contactKey string, tokens []string, at time.Time) error
	// DeviceTokens returns a contact's push tokens, the latest added
	// first; none when the contact has none.
	DeviceTokens(ctx context.Context, contactKey string) ([]DeviceToken, error)
	// RetireDeviceTokens removes push tokens from every contact that has
	// them: their provider said they are no longer valid. Removing a
	// token that is not there is not an error.
	RetireDeviceTokens(ctx context.Context, tokens []string) error

	// RecordConsent appends c to the contact's consent history.
	RecordConsent(ctx context.Context, c Consent) error
	// LatestConsent returns the consent in force for a contact, channel
	// and purpose: the latest entry, by At, then by order of recording.
	LatestConsent(ctx context.Context, contactKey string, ch channels.Channel, purpose string) (Consent, error)
	// ConsentHistory returns a contact's consent entries, oldest first.
	ConsentHistory(ctx context.Context, contactKey string) ([]Consent, error)

	// Suppress suppresses a contact on a channel for a reason; suppressing
	// again for the same reason updates its source and time.
	Suppress(ctx context.Context, s Suppression) error
	// Unsuppress lifts the suppression of a contact on a channel for
	// reason; lifting one that does not exist is not an error.
	Unsuppress(ctx context.Context, contactKey string, ch channels.Channel, reason SuppressionReason) error
	// Suppressions returns a contact's suppressions on every channel.
	Suppressions(ctx context.Context, contactKey string) ([]Suppression, error)

	// SetReachability records the latest outcome on a channel; an older
	// outcome than the one stored is ignored.
	SetReachability(ctx context.Context, r Reachability) error
	// Reachabilities returns what is known of a contact's channels.
	Reachabilities(ctx context.Context, contactKey string) ([]Reachability, error)

	// RecordInbound records that a contact wrote on a channel at a time;
	// an earlier time than the one stored is ignored.
	RecordInbound(ctx context.Context, contactKey string, ch channels.Channel, at time.Time) error
	// LastInbound returns when a contact last wrote on a channel.
	LastInbound(ctx context.Context, contactKey string, ch channels.Channel) (time.Time, error)

	// ClaimInbound records that a provider's inbound message arrived,
	// dated at, unless it is recorded already, and returns what is
	// recorded: a provider's retry or a replayed request gets the first
	// record, its time and whether it was received in full.
	ClaimInbound(ctx context.Context, provider, messageID string, at time.Time) (InboundClaim, error)
	// CompleteInbound records that a claimed inbound message was received
	// in full: claiming it again returns Done.
	CompleteInbound(ctx context.Context, provider, messageID string) error
	// MessageContact returns the contact key of the message event log's
	// entries for a provider's message: the contact a journey sent it to.
	MessageContact(ctx context.Context, provider, messageID string) (string, error)
	// KnownContact reports whether the store has a contact record for the
	// key, or a message event of it; false for the empty key.
	KnownContact(ctx context.Context, key string) (bool, error)

	// RecordEvent appends e to the message event log and reports whether
	// it was new: an event whose provider, message id and status are
	// already there is dropped.
	RecordEvent(ctx context.Context, e MessageEvent) (bool, error)
	// Events returns the events f selects, oldest first.
	Events(ctx context.Context, f EventFilter) ([]MessageEvent, error)
	// Deliveries counts the outcomes so far of the journeys whose workflow
	// ids start with prefix (a broadcast's: its id and "/"), from the
	// message event log.
	Deliveries(ctx context.Context, prefix string) (Deliveries, error)

	// ReserveSend takes one of the sends that limit allows key in the
	// window ending at at, unless the window's sends already reach the
	// limit: it reports whether the send may go. Reservations of the same
	// key are serialized, so racing callers never take more than the
	// limit; a reservation id that is there already reports true again
	// without taking another send. Reservations that left the window may
	// be forgotten.
	ReserveSend(ctx context.Context, key CapKey, limit CapLimit, reservationID string, at time.Time) (bool, error)

	// ReserveRecipient counts contactKey among the unique recipients of
	// business-initiated WhatsApp messages in the TierWindow ending at at,
	// unless the window's recipients already reach limit: it reports
	// whether the message may go. A recipient counted in the window
	// already may go again and is not counted again (its time moves to
	// at). Reservations are serialized, so racing callers never count
	// more than limit. Recipients that left the window may be forgotten.
	ReserveRecipient(ctx context.Context, contactKey string, limit int, at time.Time) (bool, error)
	// TierUsage returns what the messaging-limit counter holds in the
	// TierWindow ending at at.
	TierUsage(ctx context.Context, at time.Time) (TierUsage, error)
	// SetNumberState records what Meta said of an account's number;
	// empty Tier, Quality and Event leave the stored ones as they are.
	SetNumberState(ctx context.Context, st NumberState) error
	// NumberStates returns every account's number state, by account.
	NumberStates(ctx context.Context) ([]NumberState, error)
	// RecentOutcomes counts how the newest n messages on channel ch of the
	// journeys whose workflow ids start with prefix ended so far, among
	// the messages whose first event in the message event log is at or
	// after since.
	RecentOutcomes(ctx context.Context, prefix string, ch channels.Channel, since time.Time, n int) (SendOutcomes, error)

	// ClaimOutbox claims up to limit outbox events due at now, oldest
	// first, leasing them until now+lease: no other claim returns them
	// before then.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEvent, error)
	// AckOutbox removes a delivered event from the outbox; removing one
	// that is not there is not an error.
	AckOutbox(ctx context.Context, seq int64) error
	// RetryOutbox makes the event of a claim due again at at, noting
	// lastErr, unless it was claimed again since (claims is the claim's
	// OutboxEvent.Claims) or removed; it reports whether it changed it.
	RetryOutbox(ctx context.Context, seq int64, claims int, at time.Time, lastErr string) (bool, error)

	// SaveSegment creates the segment, or replaces the one of the same
	// name, with its members (the contact keys of a SegmentList; none for
	// a SegmentFilter), in one transaction.
	SaveSegment(ctx context.Context, seg Segment, members []string) error
	// Segment returns the segment of the name.
	Segment(ctx context.Context, name string) (Segment, error)
	// Segments returns every segment, by name.
	Segments(ctx context.Context) ([]Segment, error)
	// SegmentSize counts the segment's contacts, evaluated at time at
	// (the end of an InboundFilter's window).
	SegmentSize(ctx context.Context, name string, at time.Time) (int, error)
	// SegmentMembers returns up to limit of the segment's contacts,
	// evaluated at time at, whose keys follow after ("" for the first
	// page), by contact key: paging with the last key returned visits
	// every contact once.
	SegmentMembers(ctx context.Context, name string, at time.Time, after string, limit int) ([]Contact, error)

	// ReplaceTemplates makes ts, synced from the WhatsApp Business
	// Account wabaID at time at, the whole template registry.
	ReplaceTemplates(ctx context.Context, wabaID string, ts []Template, at time.Time) error
	// ListTemplates returns every template, by name then language; none
	// when the registry was never synced.
	ListTemplates(ctx context.Context) ([]Template, error)
	// SetTemplateStatus updates the status of the template name in
	// language (as stored); an error wrapping ErrNotFound when there is none.
	SetTemplateStatus(ctx context.Context, name, language string, st TemplateStatus) error

	// Ping reports whether the store answers a query: readiness checks
	// call it.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}
