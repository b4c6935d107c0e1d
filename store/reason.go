package store

// ReasonClass is the machine-readable class of an event's reason: why an
// attempt was skipped, deferred or gave way, why a send failed, why a
// status or an event was not taken. Every message event and timeline event
// with such a reason carries its class beside the reason's text, which is
// for people; metrics, reports and tests use the class. The values are
// also the reason label of the switchback_fallbacks_total and
// switchback_skips_total metrics.
type ReasonClass string

// Why an attempt was skipped (EventSkipped; a timeline's skipped event).
const (
	// ClassNoAddress: the contact has no address on the channel.
	ClassNoAddress ReasonClass = "no_address"
	// ClassSuppressed: the contact is suppressed on the channel.
	ClassSuppressed ReasonClass = "suppressed"
	// ClassNoConsent: a marketing send without marketing consent on the
	// channel.
	ClassNoConsent ReasonClass = "no_consent"
	// ClassWindowClosed: free-form WhatsApp content outside the 24-hour
	// window, and no template to send instead.
	ClassWindowClosed ReasonClass = "window_closed"
	// ClassEligibilityUnknown: the eligibility check could not be made;
	// nothing is sent that the rules might forbid.
	ClassEligibilityUnknown ReasonClass = "eligibility_unknown"
	// ClassFrequencyCapped: the contact had as many sends of the purpose
	// on the channel as its frequency cap allows within the cap's window.
	ClassFrequencyCapped ReasonClass = "frequency_capped"
	// ClassTierLimited: a WhatsApp template outside the customer-service
	// window to a new recipient, when the number's messaging limit (its
	// tier, or the warm-up of the day) has no room left in the rolling 24
	// hours.
	ClassTierLimited ReasonClass = "tier_limited"
)

// Why an attempt was deferred (a timeline's deferred event).
const (
	// ClassUnreachable: the channel did not reach the contact last time;
	// the attempt goes after the step's others.
	ClassUnreachable ReasonClass = "unreachable_last_time"
)

// Why an attempt was changed before it was sent (a timeline's attempt
// event).
const (
	// ClassTemplateInstead: the 24-hour window is closed; the attempt's
	// template goes instead of its session text.
	ClassTemplateInstead ReasonClass = "template_instead"
)

// Why a send failed (a failed event of a refused send) or an attempt gave
// way to the next (EventFallback).
const (
	// ClassRejected: the provider refused the send with a permanent error
	// (131026, 21211, ...).
	ClassRejected ReasonClass = "rejected"
	// ClassSendError: the send failed in a retryable way until the
	// attempt's time ran out, or the provider was not reached.
	ClassSendError ReasonClass = "send_error"
	// ClassUnknownOutcome: the provider may have the message; the journey
	// waits for a status naming the attempt instead of sending again.
	ClassUnknownOutcome ReasonClass = "unknown_outcome"
	// ClassFailedStatus: the provider reported the message failed.
	ClassFailedStatus ReasonClass = "failed_status"
	// ClassTimeout: the awaited status, or the awaited event of a wait
	// step, did not come in time.
	ClassTimeout ReasonClass = "timeout"
	// ClassRenderFailed: the attempt's message did not render.
	ClassRenderFailed ReasonClass = "render_failed"
)

// Why a broadcast paused (its status's pause class, the
// switchback_broadcast_pauses_total metric's reason label).
const (
	// ClassPausedByPerson: a person paused it.
	ClassPausedByPerson ReasonClass = "paused_by_person"
	// ClassNumberFlagged: the business number was FLAGGED
	// (phone_number_quality_update).
	ClassNumberFlagged ReasonClass = "number_flagged"
	// ClassNumberQuality: the business number's quality dropped (a
	// DOWNGRADE, or a RED rating).
	ClassNumberQuality ReasonClass = "number_quality"
	// ClassTemplatePaused: a template of the journey is PAUSED or
	// DISABLED (message_template_status_update), or a send failed with
	// 132015 or 132016.
	ClassTemplatePaused ReasonClass = "template_paused"
	// ClassFailureSurge: too many of the newest sends failed with 131049
	// or 131026.
	ClassFailureSurge ReasonClass = "failure_surge"
)

// Why a status or an event was not taken as it came (timeline only).
const (
	// ClassHeld: a status for a message whose send had not returned yet,
	// held until it did.
	ClassHeld ReasonClass = "held"
	// ClassLate: a status for an earlier attempt's message; nothing is
	// re-sent.
	ClassLate ReasonClass = "late"
	// ClassIgnored: a status Switchback does not know, or an event its
	// handler did not take (already handled, out of order, bad variables).
	ClassIgnored ReasonClass = "ignored"
	// ClassGoal: the event is one of the journey's goals.
	ClassGoal ReasonClass = "goal"
	// ClassQuietHours: a marketing send held until quiet hours end.
	ClassQuietHours ReasonClass = "quiet_hours"
)

// ClassOther is the class of a reason that fits no other, such as one
// written before reasons had classes.
const ClassOther ReasonClass = "other"

// OrOther returns c, or ClassOther when c is empty.
func (c ReasonClass) OrOther() ReasonClass {
	if c == "" {
		return ClassOther
	}
	return c
}
