package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchbackhq/switchback/internal/report"
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
	since, err := report.ParseSince(*sinceFlag, time.Now())
	if err != nil {
		return &usageError{err.Error()}
	}
	f := report.Filter{Journey: *journey, Since: since}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	events, err := st.Events(ctx, f.EventFilter())
	if err != nil {
		return err
	}
	rows := report.Rows(events, f)
	if *asCSV {
		return report.WriteCSV(e.stdout, rows)
	}
	writeReportTable(e.stdout, rows)
	return nil
}

func writeReportTable(w io.Writer, rows []store.ReportRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no message events")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(report.Header(), "\t")))
	for _, r := range rows {
		rec := report.Record(r)
		for i, f := range rec {
			if f == "" {
				rec[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	tw.Flush()
}
