package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status", "status WORKFLOW_ID [--json]")
	asJSON := fs.Bool("json", false, "print the timeline as JSON")
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	var log journeys.EventLog
	st, err := existingStore(ctx, e)
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: %v: statuses the webhooks recorded are not shown\n", err)
	case st != nil:
		defer st.Close()
		log = st
	}
	tl, err := journeys.ReadTimeline(ctx, c, log, id)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tl)
	}
	printTimeline(e.stdout, id, tl)
	return nil
}

// existingStore opens the store for its event log, which holds the
// statuses the webhooks recorded instead of signalling them, when there is
// one to open: a database URL, or the SQLite file of the data directory.
// It creates none: without one, nil (status shows the journey's own
// timeline).
func existingStore(ctx context.Context, e *env) (store.Store, error) {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, app.StoreFile)); err != nil {
			return nil, nil
		}
	}
	return app.OpenStore(ctx, cfg)
}

// printTimeline writes a timeline for people: one line per event, times
// relative to the start. Every line ends with a newline, the last one too:
// a reason that holds a newline or a tab is written on its line, with
// spaces.
func printTimeline(w io.Writer, id string, tl workflows.Timeline) {
	fmt.Fprintf(w, "journey %s (%s): %s\n", id, oneLine(tl.Journey), tl.Outcome)
	if len(tl.Events) == 0 {
		return
	}
	start := tl.Events[0].Time
	fmt.Fprintf(w, "started %s\n\n", start.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tATTEMPT\tCHANNEL\tMESSAGE\tDETAIL")
	for _, ev := range tl.Events {
		attempt := ""
		if ev.Attempt > 0 {
			attempt = fmt.Sprint(ev.Attempt)
		}
		cells := []string{"+" + ev.Time.Sub(start).Round(time.Millisecond).String(), ev.Label(), attempt, string(ev.Channel), ev.MessageID, detail(ev)}
		for i, c := range cells {
			cells[i] = oneLine(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// oneLine replaces the control characters of s (newlines, tabs) with
// spaces, so that s stays in its cell, and trims trailing space.
func oneLine(s string) string {
	return strings.TrimRightFunc(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s), unicode.IsSpace)
}

func detail(ev workflows.Event) string {
	var parts []string
	if ev.Code != "" {
		parts = append(parts, "code "+ev.Code)
	}
	if ev.Reason != "" {
		parts = append(parts, ev.Reason)
	}
	return strings.Join(parts, ": ")
}
