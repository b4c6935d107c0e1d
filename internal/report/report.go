// Package report turns the store's message event log into the numbers
// that `switchback report` prints and the console's reports page draws:
// the rows of store.Summarize filtered by journey and time, their CSV,
// delivery latency percentiles per channel, and the failure codes seen
// with their meaning. It is the one home of the report's CSV, so that the
// console's download and `report --csv` are the same bytes.
package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// Filter selects the events and rows of a report. Zero fields select
// everything.
type Filter struct {
	// Journey keeps only that journey's rows.
	Journey string
	// Since and Until keep the events at or after Since and before Until.
	Since, Until time.Time
}

// EventFilter returns the store filter that reads f's events. Until is
// not a store filter: Rows and the other functions apply it.
//
// The journey is filtered after summarizing, not in the store, so that
// statuses recorded without their journey still count under their
// message's.
func (f Filter) EventFilter() store.EventFilter { return store.EventFilter{Since: f.Since} }

// Within returns the events before f.Until (all of them when it is zero).
func (f Filter) Within(events []store.MessageEvent) []store.MessageEvent {
	if f.Until.IsZero() {
		return events
	}
	return slices.DeleteFunc(slices.Clone(events), func(e store.MessageEvent) bool { return !e.At.Before(f.Until) })
}

// Rows summarizes events (read with f.EventFilter) and keeps f's rows.
func Rows(events []store.MessageEvent, f Filter) []store.ReportRow {
	return slices.DeleteFunc(store.Summarize(f.Within(events)), func(r store.ReportRow) bool {
		return f.Journey != "" && r.Journey != f.Journey
	})
}

// ParseSince reads a start time: empty (no start), a duration before now
// (Go syntax, or whole days such as 7d), a date, or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (24h, 7d), a date (2026-06-01) or an RFC 3339 time", s)
}

// Header names the report's columns.
func Header() []string {
	return []string{"journey", "step", "channel", "template", "sent", "delivered", "read", "failed", "failed_by_code",
		"fallbacks", "fallbacks_by_class", "skipped", "skipped_by_class", "replies", "conversions",
		"broadcast_pauses", "paused_by_class"}
}

// Record returns a row's fields in Header's order.
func Record(r store.ReportRow) []string {
	n := strconv.Itoa
	return []string{r.Journey, r.Step, string(r.Channel), r.Template, n(r.Sent), n(r.Delivered), n(r.Read),
		n(r.FailedTotal()), Breakdown(r.Failed), n(r.Fallbacks), Breakdown(r.FallbacksBy),
		n(r.Skipped), Breakdown(r.SkippedBy), n(r.Replies), n(r.Conversions), n(r.BroadcastPauses), Breakdown(r.PausedBy)}
}

// Breakdown writes counts by key as "key=n" pairs in key order, an empty
// key as "none": "131026=2 none=1", "timeout=1".
func Breakdown[K ~string](counts map[K]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		name := string(k)
		if name == "" {
			name = "none"
		}
		out = append(out, name+"="+strconv.Itoa(counts[k]))
	}
	return strings.Join(out, " ")
}

// WriteCSV writes Header and the rows as CSV.
func WriteCSV(w io.Writer, rows []store.ReportRow) error {
	cw := csv.NewWriter(w)
	cw.Write(Header())
	for _, r := range rows {
		cw.Write(Record(r))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report CSV: %w", err)
	}
	return nil
}
