package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/simulate"
	"github.com/switchbackhq/switchback/journeys"
)

func runSimulate(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "simulate", "simulate JOURNEY|--file F [--var k=v ...] [--scenario whatsapp=failed,sms=delivered] [--event NAME@30m[,k=v]] [--verify CODE@1m] [--caps marketing:whatsapp=2/7d] [--sent-recently whatsapp=2] [--tier 250 --sent-today 250]")
	file := fs.String("file", "", "journey definition file (default: the built-in JOURNEY)")
	to := fs.String("to", "+15551234567", "recipient phone number")
	email := fs.String("email", "", "recipient email address")
	tz := fs.String("timezone", "", "recipient time zone")
	scenario := fs.String("scenario", "", "what each provider does: channel=delivered|read|sent|failed|silent|refused, comma-separated")
	start := fs.String("start", "", "journey start time, RFC 3339 (default now), for quiet hours")
	asJSON := fs.Bool("json", false, "print the timeline as JSON")
	caps := fs.String("caps", e.getenv("SWITCHBACK_FREQUENCY_CAPS"), "frequency caps, as SWITCHBACK_FREQUENCY_CAPS (default: its value)")
	recent := fs.String("sent-recently", "", "messages of the journey's purpose the contact got within the caps' windows: channel=count, comma-separated")
	tier := fs.String("tier", e.getenv("SWITCHBACK_WHATSAPP_TIER"), "WhatsApp messaging limit: TIER_250, TIER_2K, ..., TIER_UNLIMITED or a number (default: SWITCHBACK_WHATSAPP_TIER)")
	sentToday := fs.Int("sent-today", 0, "unique WhatsApp recipients of templates already counted against --tier in the last 24 hours")
	vars := varsFlag{}
	fs.Var(vars, "var", "journey variable name=value (repeatable)")
	var events []simulate.Event
	fs.Func("event", "send an event: NAME@DURATION[,name=value...] (repeatable)", func(s string) error {
		head, rest, _ := strings.Cut(s, ",")
		name, after, err := at(head)
		if err != nil {
			return err
		}
		ev := journeys.EventInput{Name: name, Vars: map[string]string{}}
		for _, kv := range strings.Split(rest, ",") {
			if kv == "" {
				continue
			}
			if err := varsFlag(ev.Vars).Set(kv); err != nil {
				return err
			}
		}
		events = append(events, simulate.Event{After: after, Event: ev})
		return nil
	})
	var checks []simulate.Check
	fs.Func("verify", "check a code: CODE@DURATION (repeatable)", func(s string) error {
		code, after, err := at(s)
		checks = append(checks, simulate.Check{After: after, Code: code})
		return err
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	j, err := loadJourney(*file, pos)
	if err != nil {
		return err
	}
	sc, err := simulate.ParseScenario(*scenario, app.Channels())
	if err != nil {
		return &usageError{err.Error()}
	}
	opts := simulate.Options{Channels: app.Channels(), Scenario: sc, Events: events, Checks: checks,
		Input: journeys.Input{Journey: j, To: *to, Email: *email, TimeZone: *tz, Vars: vars}}
	if opts.Caps, err = config.ParseFrequencyCaps(*caps); err == nil {
		err = app.CheckCapChannels(opts.Caps)
	}
	if err != nil {
		return &usageError{"--caps: " + err.Error()}
	}
	if opts.SentRecently, err = simulate.ParseSentRecently(*recent, app.Channels()); err != nil {
		return &usageError{"--sent-recently: " + err.Error()}
	}
	if _, _, err := activities.TierLimit(*tier); err != nil {
		return &usageError{"--tier: " + err.Error()}
	}
	if *sentToday < 0 {
		return &usageError{"--sent-today: want 0 or more"}
	}
	opts.Tier, opts.SentToday = *tier, *sentToday
	if err := (journeys.StartOptions{Journey: j, To: *to, Email: *email, TimeZone: *tz, Vars: vars}).Check(); err != nil {
		return err
	}
	if *start != "" {
		if opts.Start, err = time.Parse(time.RFC3339, *start); err != nil {
			return &usageError{fmt.Sprintf("--start %q: want RFC 3339, e.g. 2026-11-25T20:30:00Z", *start)}
		}
	}
	tl, err := simulate.Run(opts)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tl)
	}
	printTimeline(e.stdout, "simulation", tl)
	return nil
}

// at parses "VALUE@DURATION".
func at(s string) (string, time.Duration, error) {
	v, d, ok := strings.Cut(s, "@")
	if !ok || v == "" {
		return "", 0, fmt.Errorf("%q: want VALUE@DURATION, e.g. order_placed@30m", s)
	}
	after, err := time.ParseDuration(d)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", s, err)
	}
	return v, after, nil
}
