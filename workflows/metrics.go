package workflows

import (
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
)

// Names of the journey counters, as a Prometheus scrape shows them. The
// journey counts them through workflow.GetMetricsHandler when it records a
// decision in its timeline; the SDK drops them while a workflow replays, so
// each decision counts once, except that a query answered from the full
// history counts again the decisions of a workflow task not yet completed
// (the SDK takes those events for new ones). Each also carries the SDK's
// namespace, task_queue and workflow_type labels.
const (
	// MetricSends counts sends by channel, journey, template and result
	// (accepted: the provider took the message; failed: it did not).
	MetricSends = "switchback_sends_total"
	// MetricStatuses counts delivery statuses by channel, journey,
	// template and status. Duplicates and statuses that would move a
	// message backwards are not counted.
	MetricStatuses = "switchback_statuses_total"
	// MetricFallbacks counts attempts that gave way to the next, by
	// channel (the one fallen back from), journey and reason class.
	MetricFallbacks = "switchback_fallbacks_total"
	// MetricSkips counts attempts not made, by channel, journey and
	// reason class.
	MetricSkips = "switchback_skips_total"
)

// Label values of the journey counters.
const (
	// NoTemplate is the template label of a send that is not a WhatsApp
	// template, and the channel label of a status for a message the
	// journey does not know yet.
	NoTemplate     = "none"
	unknownChannel = "unknown"

	ResultAccepted = "accepted"
	ResultFailed   = "failed"
)

// Reason classes of fallbacks: a small fixed set in place of the free-text
// reason, so that the reason label stays bounded.
const (
	// FallbackRejected: the provider refused the send with a permanent
	// error (131026, 21211, ...).
	FallbackRejected = "rejected"
	// FallbackSendError: the send failed in a retryable way until the
	// attempt's time ran out, or the provider was not reached.
	FallbackSendError = "send_error"
	// FallbackFailedStatus: the provider reported the message failed.
	FallbackFailedStatus = "failed_status"
	// FallbackTimeout: the awaited status did not come in time.
	FallbackTimeout = "timeout"
	// FallbackOther: anything else, such as a message that did not render.
	FallbackOther = "other"
)

// Reason classes of skipped attempts.
const (
	SkipNoAddress          = "no_address"
	SkipSuppressed         = "suppressed"
	SkipNoConsent          = "no_consent"
	SkipWindowClosed       = "window_closed"
	SkipEligibilityUnknown = "eligibility_unknown"
	// SkipUnreachable: the attempt goes after the others, as its channel
	// did not reach the contact last time.
	SkipUnreachable = "unreachable_last_time"
	SkipOther       = "other"
)

// count counts ev in the journey counters, if it is a decision they count.
// It changes no state of the journey and issues no command.
func (r *run) count(ctx workflow.Context, ev Event) {
	tags := map[string]string{"journey": r.in.Journey.Name, "channel": string(ev.Channel)}
	var name string
	switch ev.Kind {
	case EventSent, EventSendFailed:
		name = MetricSends
		tags["template"] = r.template
		tags["result"] = ResultAccepted
		if ev.Kind == EventSendFailed {
			tags["result"] = ResultFailed
		}
	case EventStatus:
		if !ev.Status.Valid() || ev.MessageID == "" {
			return
		}
		name = MetricStatuses
		tags["status"] = string(ev.Status)
		tags["template"] = NoTemplate
		if m, ok := r.sent[messageKey(ev.Provider, ev.MessageID)]; ok && m.channel == channels.WhatsApp && m.template != "" {
			tags["template"] = m.template
		}
		if ev.Channel == "" {
			tags["channel"] = unknownChannel
		}
	case EventFallback:
		name = MetricFallbacks
		tags["reason"] = fallbackClass(ev.Reason)
	case EventSkipped:
		name = MetricSkips
		tags["reason"] = skipClass(ev.Reason)
	default:
		return
	}
	workflow.GetMetricsHandler(ctx).WithTags(tags).Counter(name).Inc(1)
}

// templateLabel is the template label of m: the name of a WhatsApp
// template, else NoTemplate.
func templateLabel(m channels.Message) string {
	if m.Channel == channels.WhatsApp && m.Template != nil && m.Template.Name != "" {
		return m.Template.Name
	}
	return NoTemplate
}

// fallbackClass maps the reason of a fallback, as the journey words it in
// send.go, to its class.
func fallbackClass(reason string) string {
	switch {
	case strings.HasPrefix(reason, "send failed: permanent error"):
		return FallbackRejected
	case strings.HasPrefix(reason, "send failed: "):
		return FallbackSendError
	case strings.HasSuffix(reason, " reported the message failed"):
		return FallbackFailedStatus
	case strings.HasPrefix(reason, "no ") && strings.Contains(reason, " within "):
		return FallbackTimeout
	}
	return FallbackOther
}

// skipClass maps the reason of a skipped attempt (the eligibility check's,
// or the journey's own) to its class.
func skipClass(reason string) string {
	switch {
	case strings.HasPrefix(reason, "no ") && strings.HasSuffix(reason, " address for this contact"):
		return SkipNoAddress
	case strings.HasPrefix(reason, activities.ReasonSuppressedPrefix):
		return SkipSuppressed
	case reason == activities.ReasonNoMarketingConsent:
		return SkipNoConsent
	case reason == activities.ReasonWindowClosed:
		return SkipWindowClosed
	case strings.HasPrefix(reason, "eligibility unknown"):
		return SkipEligibilityUnknown
	case strings.HasPrefix(reason, "unreachable here last time"):
		return SkipUnreachable
	}
	return SkipOther
}
