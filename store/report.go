package store

import (
	"cmp"
	"maps"
	"slices"

	"github.com/switchbackhq/switchback/channels"
)

// ReportKey is what a report row counts: one step of a journey, on one
// channel, with one template.
type ReportKey struct {
	Journey  string           `json:"journey"`
	Step     string           `json:"step"`
	Channel  channels.Channel `json:"channel"`
	Template string           `json:"template"`
}

// ReportRow counts the messages and events of one ReportKey.
type ReportRow struct {
	ReportKey
	// Sent, Delivered and Read count messages that got at least that far
	// (read implies delivered, delivered implies sent).
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Read      int `json:"read"`
	// Failed counts failed messages, refused sends included, by error code
	// ("" when the provider gave none).
	Failed map[string]int `json:"failed,omitempty"`
	// Skipped, Fallbacks, Replies and Conversions count events.
	Skipped     int `json:"skipped"`
	Fallbacks   int `json:"fallbacks"`
	Replies     int `json:"replies"`
	Conversions int `json:"conversions"`
	// SkippedBy and FallbacksBy count skips and fallbacks by reason class
	// (ClassOther for events recorded without one).
	SkippedBy   map[ReasonClass]int `json:"skipped_by,omitempty"`
	FallbacksBy map[ReasonClass]int `json:"fallbacks_by,omitempty"`
	// BroadcastPauses counts the pauses of the journey's broadcasts, on
	// the journey's BroadcastStep row, by reason class in PausedBy.
	BroadcastPauses int                 `json:"broadcast_pauses,omitempty"`
	PausedBy        map[ReasonClass]int `json:"paused_by,omitempty"`
}

// BroadcastStep is the step of the report row that counts the pauses of a
// journey's broadcasts.
const BroadcastStep = "(broadcast)"

// FailedTotal returns the number of failed messages.
func (r ReportRow) FailedTotal() int {
	n := 0
	for _, c := range r.Failed {
		n += c
	}
	return n
}

// Summarize counts events by journey, step, channel and template, in that
// order. A status event is counted under the key of its message's
// accepted event when it has one, so that statuses recorded without their
// journey's details still land on the right row. Fallbacks and skips,
// recorded without a template, are counted under their attempt's template:
// the one its send recorded, else the only template of their step and
// channel, so that the row of an attempt adds up.
func Summarize(events []MessageEvent) []ReportRow {
	type msgKey struct{ provider, id string }
	type attemptKey struct {
		workflowID string
		attempt    int
	}
	templates := map[attemptKey]string{}
	for _, e := range events {
		if e.Template != "" && e.WorkflowID != "" && e.Attempt > 0 {
			templates[attemptKey{e.WorkflowID, e.Attempt}] = e.Template
		}
	}
	keyOf := func(e MessageEvent) ReportKey {
		if e.Template == "" {
			e.Template = templates[attemptKey{e.WorkflowID, e.Attempt}]
		}
		return ReportKey{e.Journey, e.Step, e.Channel, e.Template}
	}
	accepted := map[msgKey]ReportKey{}
	for _, e := range events {
		if e.Status == EventAccepted {
			accepted[msgKey{e.Provider, e.MessageID}] = keyOf(e)
		}
	}
	rows := map[ReportKey]*ReportRow{}
	row := func(k ReportKey) *ReportRow {
		if rows[k] == nil {
			rows[k] = &ReportRow{ReportKey: k}
		}
		return rows[k]
	}
	// reached holds each message's statuses, counted once per message.
	reached := map[msgKey]map[EventStatus]string{}
	msgRow := map[msgKey]ReportKey{}
	for _, e := range events {
		switch e.Status {
		case EventSkipped:
			r := row(keyOf(e))
			r.Skipped++
			r.SkippedBy = addClass(r.SkippedBy, e.ReasonClass.OrOther(), 1)
		case EventFallback:
			r := row(keyOf(e))
			r.Fallbacks++
			r.FallbacksBy = addClass(r.FallbacksBy, e.ReasonClass.OrOther(), 1)
		case EventReply:
			row(keyOf(e)).Replies++
		case EventConverted:
			row(keyOf(e)).Conversions++
		case EventBroadcastPaused:
			r := row(ReportKey{Journey: e.Journey, Step: BroadcastStep})
			r.BroadcastPauses++
			r.PausedBy = addClass(r.PausedBy, e.ReasonClass.OrOther(), 1)
		case EventAccepted, EventSent, EventDelivered, EventRead, EventFailed:
			m := msgKey{e.Provider, e.MessageID}
			if _, ok := msgRow[m]; !ok {
				k, ok := accepted[m]
				if !ok {
					k = keyOf(e)
				}
				msgRow[m] = k
				reached[m] = map[EventStatus]string{}
			}
			reached[m][e.Status] = e.ErrorCode
		}
	}
	for m, st := range reached {
		r := row(msgRow[m])
		has := func(ss ...EventStatus) bool {
			return slices.ContainsFunc(ss, func(s EventStatus) bool { _, ok := st[s]; return ok })
		}
		if has(EventAccepted, EventSent, EventDelivered, EventRead) {
			r.Sent++
		}
		if has(EventDelivered, EventRead) {
			r.Delivered++
		}
		if has(EventRead) {
			r.Read++
		}
		if code, ok := st[EventFailed]; ok {
			if r.Failed == nil {
				r.Failed = map[string]int{}
			}
			r.Failed[code]++
		}
	}
	mergeUntemplated(rows)
	out := make([]ReportRow, 0, len(rows))
	for _, k := range slices.SortedFunc(maps.Keys(rows), func(a, b ReportKey) int {
		return cmp.Or(cmp.Compare(a.Journey, b.Journey), cmp.Compare(a.Step, b.Step),
			cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Template, b.Template))
	}) {
		out = append(out, *rows[k])
	}
	return out
}

// mergeUntemplated adds each row that counts no message and has no
// template (skips and fallbacks of attempts that sent nothing) to the row
// of the same journey, step and channel with a template, when there is
// exactly one.
func mergeUntemplated(rows map[ReportKey]*ReportRow) {
	for k, r := range rows {
		if k.Template != "" || r.Sent > 0 || r.FailedTotal() > 0 {
			continue
		}
		var into *ReportRow
		n := 0
		for k2, r2 := range rows {
			if k2.Template != "" && k2.Journey == k.Journey && k2.Step == k.Step && k2.Channel == k.Channel {
				into, n = r2, n+1
			}
		}
		if n != 1 {
			continue
		}
		into.Skipped += r.Skipped
		into.Fallbacks += r.Fallbacks
		for c, n := range r.SkippedBy {
			into.SkippedBy = addClass(into.SkippedBy, c, n)
		}
		for c, n := range r.FallbacksBy {
			into.FallbacksBy = addClass(into.FallbacksBy, c, n)
		}
		into.Replies += r.Replies
		into.Conversions += r.Conversions
		delete(rows, k)
	}
}

// addClass adds n to m[c], making m if it is nil, and returns m.
func addClass(m map[ReasonClass]int, c ReasonClass, n int) map[ReasonClass]int {
	if m == nil {
		m = map[ReasonClass]int{}
	}
	m[c] += n
	return m
}
