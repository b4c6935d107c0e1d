package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchbackhq/switchback/store"
)

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "report [--journey NAME] [--since 24h|7d|2026-06-01|RFC3339] [--csv]")
	journey := fs.String("journey", "", "only this journey")
	sinceFlag := fs.String("since", "", "only events since a duration ago (24h, 7d), a date or an RFC 3339 time")
	asCSV := fs.Bool("csv", false, "print CSV")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	since, err := parseSince(*sinceFlag, time.Now())
	if err != nil {
		return &usageError{err.Error()}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	// Filtering by journey after summarizing keeps the statuses recorded
	// without their journey, which Summarize files under their message's.
	events, err := st.Events(ctx, store.EventFilter{Since: since})
	if err != nil {
		return err
	}
	rows := slices.DeleteFunc(store.Summarize(events), func(r store.ReportRow) bool {
		return *journey != "" && r.Journey != *journey
	})
	if *asCSV {
		return writeReportCSV(e.stdout, rows)
	}
	writeReportTable(e.stdout, rows)
	return nil
}

// parseSince reads --since: empty (everything), a duration before now
// (Go syntax, or whole days such as 7d), a date, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
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

// reportHeader names the report columns.
func reportHeader() []string {
	return []string{"journey", "step", "channel", "template", "sent", "delivered", "read", "failed", "failed_by_code",
		"fallbacks", "fallbacks_by_class", "skipped", "skipped_by_class", "replies", "conversions"}
}

// reportRecord returns a row's fields in reportHeader's order.
func reportRecord(r store.ReportRow) []string {
	n := strconv.Itoa
	return []string{r.Journey, r.Step, string(r.Channel), r.Template, n(r.Sent), n(r.Delivered), n(r.Read),
		n(r.FailedTotal()), breakdown(r.Failed), n(r.Fallbacks), breakdown(r.FallbacksBy),
		n(r.Skipped), breakdown(r.SkippedBy), n(r.Replies), n(r.Conversions)}
}

// breakdown writes counts by key as "key=n" pairs in key order, an empty
// key as "none": "131026=2 none=1", "timeout=1".
func breakdown[K ~string](counts map[K]int) string {
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

func writeReportCSV(w io.Writer, rows []store.ReportRow) error {
	cw := csv.NewWriter(w)
	cw.Write(reportHeader())
	for _, r := range rows {
		cw.Write(reportRecord(r))
	}
	cw.Flush()
	return cw.Error()
}

func writeReportTable(w io.Writer, rows []store.ReportRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no message events")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(reportHeader(), "\t")))
	for _, r := range rows {
		rec := reportRecord(r)
		for i, f := range rec {
			if f == "" {
				rec[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	tw.Flush()
}
