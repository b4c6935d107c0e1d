package main

import (
	"context"
	"fmt"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// knownChannel reports whether ch is one of the worker's channels.
func knownChannel(ch channels.Channel) bool {
	_, ok := app.Channels().Lookup(ch)
	return ok
}

func runConsent(ctx context.Context, e *env, args []string) error {
	const usage = "consent grant|withdraw NUMBER --channel CHANNEL --purpose PURPOSE [--source SOURCE]"
	if len(args) == 0 || (args[0] != "grant" && args[0] != "withdraw") {
		return &usageError{"want " + usage}
	}
	granted := args[0] == "grant"
	fs := newFlagSet(e, "consent", usage)
	ch := fs.String("channel", "", app.ChannelNames())
	purpose := fs.String("purpose", "", "marketing, utility or authentication")
	source := fs.String("source", "cli", "where the consent came from, e.g. \"support call 2026-06-01\"")
	number, err := parseNumber(fs, args[1:])
	if err != nil {
		return err
	}
	if !knownChannel(channels.Channel(*ch)) {
		return &usageError{fmt.Sprintf("--channel %q: want %s", *ch, app.ChannelNames())}
	}
	if !validPurpose(journeys.Purpose(*purpose)) {
		return &usageError{fmt.Sprintf("--purpose %q: want marketing, utility or authentication", *purpose)}
	}
	st, secret, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	key := journeys.ContactKey(secret, number)
	if err := st.UpsertContact(ctx, store.Contact{Key: key, Number: number}); err != nil {
		return err
	}
	c := store.Consent{ContactKey: key, Channel: channels.Channel(*ch), Purpose: *purpose, Granted: granted, Source: *source, At: time.Now().UTC()}
	if err := st.RecordConsent(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s consent %s on %s (source %q)\n", number, c.Purpose, c.State(), c.Channel, c.Source)
	if !granted {
		return nil
	}
	sups, err := st.Suppressions(ctx, key)
	if err != nil {
		return err
	}
	for _, s := range sups {
		if s.Channel == c.Channel {
			fmt.Fprintf(e.stderr, "note: %s stays suppressed on %s (%s, %s): nothing is sent there until the customer opts in again\n",
				number, s.Channel, s.Reason, s.Source)
		}
	}
	return nil
}
