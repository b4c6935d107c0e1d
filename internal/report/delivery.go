package report

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
)

// Latency is how long a channel's messages took from accepted to
// delivered.
type Latency struct {
	Channel channels.Channel
	// Messages is how many delivered messages were measured.
	Messages int
	// P50, P90 and P99 are nearest-rank percentiles.
	P50, P90, P99 time.Duration
}

// Failure counts the failed messages of one provider error code on one
// channel.
type Failure struct {
	Channel  channels.Channel
	Provider string
	// Code is the provider's error code ("" when it gave none).
	Code     string
	Messages int
	// Reason is what the provider said the code means, with a failure.
	Reason string
	// Class is what the code means for a send, from the provider's table
	// of codes (ProviderClass): "permanent", "retryable",
	// "configuration"; "" when the table does not list it.
	Class string
}

// message is what Latencies and Failures need of one message: its
// channel and provider from its accepted event, and its times.
type message struct {
	channel                channels.Channel
	provider               string
	accepted, delivered    time.Time
	failed                 bool
	errorCode, errorReason string
}

// messages gathers events by provider message; events that no provider
// numbered are left out.
func messages(events []store.MessageEvent) map[[2]string]*message {
	out := map[[2]string]*message{}
	for _, e := range events {
		switch e.Status {
		case store.EventAccepted, store.EventSent, store.EventDelivered, store.EventRead, store.EventFailed:
		default:
			continue
		}
		k := [2]string{e.Provider, e.MessageID}
		m := out[k]
		if m == nil {
			m = &message{provider: e.Provider}
			out[k] = m
		}
		if m.channel == "" || e.Status == store.EventAccepted {
			m.channel = cmp.Or(e.Channel, m.channel)
		}
		switch e.Status {
		case store.EventAccepted:
			m.accepted = e.At
		case store.EventDelivered, store.EventRead:
			if m.delivered.IsZero() || e.At.Before(m.delivered) {
				m.delivered = e.At
			}
		case store.EventFailed:
			m.failed, m.errorCode, m.errorReason = true, e.ErrorCode, e.ErrorReason
		}
	}
	return out
}

// Latencies returns, per channel in name order, the percentiles of the
// time from each message's accepted event to its first delivered (or
// read) event. Messages without both are left out.
func Latencies(events []store.MessageEvent) []Latency {
	byChannel := map[channels.Channel][]time.Duration{}
	for _, m := range messages(events) {
		if m.accepted.IsZero() || m.delivered.IsZero() || m.delivered.Before(m.accepted) {
			continue
		}
		byChannel[m.channel] = append(byChannel[m.channel], m.delivered.Sub(m.accepted))
	}
	var out []Latency
	for _, ch := range slices.Sorted(maps.Keys(byChannel)) {
		ds := byChannel[ch]
		slices.Sort(ds)
		out = append(out, Latency{Channel: ch, Messages: len(ds),
			P50: percentile(ds, 50), P90: percentile(ds, 90), P99: percentile(ds, 99)})
	}
	return out
}

// percentile returns the nearest-rank p-th percentile of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[max(rank, 1)-1]
}

// ProviderClass returns the class of a provider's error code from that
// provider's table of codes (WhatsApp Cloud API's), or "" when there is
// none or the code is not in it.
func ProviderClass(provider, code string) string {
	if provider != whatsapp.Provider {
		return ""
	}
	n, err := strconv.Atoi(code)
	if c := whatsapp.Classify(n); err == nil && c != whatsapp.Unknown {
		return c.String()
	}
	return ""
}

// Failures counts failed messages by channel, provider and error code, in
// that order, with what each code means.
func Failures(events []store.MessageEvent) []Failure {
	type key struct {
		channel        channels.Channel
		provider, code string
	}
	counts := map[key]*Failure{}
	for _, m := range messages(events) {
		if !m.failed {
			continue
		}
		k := key{m.channel, m.provider, m.errorCode}
		f := counts[k]
		if f == nil {
			f = &Failure{Channel: m.channel, Provider: m.provider, Code: m.errorCode, Class: ProviderClass(m.provider, m.errorCode)}
			counts[k] = f
		}
		f.Messages++
		f.Reason = cmp.Or(f.Reason, m.errorReason)
	}
	out := make([]Failure, 0, len(counts))
	for _, f := range counts {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Code, b.Code))
	})
	return out
}
