package activities

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/promreg"
	"github.com/switchbackhq/switchback/store"
)

// Names of the journey counters, as a Prometheus scrape shows them. They
// are counted where each decision of a journey is written once: when an
// event is added to the message event log (RecordEvent, and the send's own
// accepted event). A retried activity, a replayed workflow or a duplicated
// status adds no event, so it counts nothing.
const (
	// MetricSends counts sends by channel, journey, template and result
	// (accepted: the provider took the message; failed: it did not).
	MetricSends = "switchback_sends_total"
	// MetricStatuses counts the delivery statuses providers reported (sent,
	// delivered, read, failed) by channel, journey, template and status.
	// Duplicates and statuses that would move a message backwards are not
	// counted.
	MetricStatuses = "switchback_statuses_total"
	// MetricFallbacks counts attempts that gave way to the next, by
	// channel (the one fallen back from), journey and reason class (the
	// event's store.ReasonClass, store.ClassOther when it has none).
	MetricFallbacks = "switchback_fallbacks_total"
	// MetricSkips counts attempts not made, by channel, journey and
	// reason class (as MetricFallbacks).
	MetricSkips = "switchback_skips_total"
	// MetricTierLimit is the WhatsApp messaging limit in force (the tier,
	// or the warm-up day's), as a broadcast last read it.
	MetricTierLimit = "switchback_whatsapp_tier_limit"
	// MetricTierRecipients is the unique recipients counted against it
	// in the rolling 24 hours, as a broadcast last read them.
	MetricTierRecipients = "switchback_whatsapp_tier_recipients"
)

// Label values of the journey counters.
const (
	// NoTemplate is the template label of a message that is not a
	// WhatsApp template.
	NoTemplate = "none"
	// UnknownChannel is the channel label of a status for a message the
	// journey did not know yet when the status came.
	UnknownChannel = "unknown"
	// ResultAccepted is the result label of a send the provider took.
	ResultAccepted = "accepted"
	// ResultFailed is the result label of a send the provider refused or
	// that did not reach it.
	ResultFailed = "failed"
)

// Metrics holds the journey counters. A nil *Metrics counts nothing.
type Metrics struct {
	sends     *prometheus.CounterVec
	statuses  *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	skips     *prometheus.CounterVec
	// tier is the messaging limit's gauges, by what (limit, recipients).
	tierLimit, tierRecipients *prometheus.GaugeVec
}

// NewMetrics registers the journey counters on reg, or takes those already
// registered there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	var m Metrics
	for _, c := range []struct {
		dst    **prometheus.CounterVec
		opts   prometheus.CounterOpts
		labels []string
	}{
		{&m.sends, prometheus.CounterOpts{Name: MetricSends,
			Help: "Journey sends, by channel, journey, template and result (accepted or failed)."},
			[]string{"channel", "journey", "template", "result"}},
		{&m.statuses, prometheus.CounterOpts{Name: MetricStatuses,
			Help: "Delivery statuses reported by providers, by channel, journey, template and status."},
			[]string{"channel", "journey", "template", "status"}},
		{&m.fallbacks, prometheus.CounterOpts{Name: MetricFallbacks,
			Help: "Journey attempts that gave way to the next, by channel, journey and reason class."},
			[]string{"channel", "journey", "reason"}},
		{&m.skips, prometheus.CounterOpts{Name: MetricSkips,
			Help: "Journey attempts not made, by channel, journey and reason class."},
			[]string{"channel", "journey", "reason"}},
	} {
		v, err := promreg.CounterVec(reg, c.opts, c.labels...)
		if err != nil {
			return nil, err
		}
		*c.dst = v
	}
	var err error
	if m.tierLimit, err = promreg.GaugeVec(reg, prometheus.GaugeOpts{Name: MetricTierLimit,
		Help: "The WhatsApp messaging limit in force: unique recipients of business-initiated messages in 24 hours."}); err != nil {
		return nil, err
	}
	if m.tierRecipients, err = promreg.GaugeVec(reg, prometheus.GaugeOpts{Name: MetricTierRecipients,
		Help: "Unique WhatsApp recipients of business-initiated messages counted in the rolling 24 hours."}); err != nil {
		return nil, err
	}
	return &m, nil
}

// tierUsage shows the messaging limit and its use.
func (m *Metrics) tierUsage(limit, recipients int) {
	if m == nil {
		return
	}
	m.tierLimit.WithLabelValues().Set(float64(limit))
	m.tierRecipients.WithLabelValues().Set(float64(recipients))
}

// count counts e, an event just added to the message event log, in the
// counter it belongs to, if any.
func (m *Metrics) count(e store.MessageEvent) {
	if m == nil {
		return
	}
	channel := string(e.Channel)
	switch e.Status {
	case store.EventAccepted:
		m.sends.WithLabelValues(orUnknown(channel), e.Journey, templateLabel(e), ResultAccepted).Inc()
	case store.EventFailed:
		if sendFailure(e) {
			m.sends.WithLabelValues(channel, e.Journey, templateLabel(e), ResultFailed).Inc()
			return
		}
		fallthrough
	case store.EventSent, store.EventDelivered, store.EventRead:
		m.statuses.WithLabelValues(orUnknown(channel), e.Journey, templateLabel(e), string(e.Status)).Inc()
	case store.EventFallback:
		m.fallbacks.WithLabelValues(channel, e.Journey, string(e.ReasonClass.OrOther())).Inc()
	case store.EventSkipped:
		m.skips.WithLabelValues(channel, e.Journey, string(e.ReasonClass.OrOther())).Inc()
	}
}

// sendFailure reports whether a failed event is a send the provider did
// not take, rather than a failed status it reported: a refused send has no
// provider message id, so the journey writes it under LocalProvider.
func sendFailure(e store.MessageEvent) bool {
	return e.Status == store.EventFailed && e.Provider == store.LocalProvider
}

// templateLabel is the template label of e: the name of a WhatsApp
// template, else NoTemplate.
func templateLabel(e store.MessageEvent) string {
	if e.Channel == channels.WhatsApp && e.Template != "" {
		return e.Template
	}
	return NoTemplate
}

func orUnknown(channel string) string {
	if channel == "" {
		return UnknownChannel
	}
	return channel
}
