package main

import (
	"context"
	"fmt"

	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/workflows"
)

func runStart(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "start", "start JOURNEY --to NUMBER [--var name=value ...] [--id KEY] [--wait] [--file journey.yaml]")
	to := fs.String("to", "", "recipient phone number, E.164 (+15551234567)")
	id := fs.String("id", "", "workflow id; a repeated start with the same id sends nothing")
	wait := fs.Bool("wait", false, "wait for the journey to end; exit 1 unless it delivered")
	file := fs.String("file", "", "journey definition file (default: the built-in JOURNEY)")
	vars := varsFlag{}
	fs.Var(vars, "var", "journey variable name=value (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var j journeys.Journey
	switch {
	case *file != "" && len(pos) == 0:
		j, err = journeys.LoadFile(*file)
	case *file == "" && len(pos) == 1:
		j, err = journeys.Builtin(pos[0])
	default:
		return &usageError{"name one built-in journey, or give --file (built-in: " + fmt.Sprint(journeys.BuiltinNames()) + ")"}
	}
	if err != nil {
		return err
	}
	if *to == "" {
		return &usageError{"--to is required"}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	opts := journeys.StartOptions{Journey: j, To: *to, Vars: vars, ID: *id, ContactKey: cfg.ContactKeyOrDefault()}
	if err := opts.Check(); err != nil {
		return err
	}
	c, err := dial(ctx, cfg, newLogger(e))
	if err != nil {
		return err
	}
	defer c.Close()
	run, existed, err := journeys.Start(ctx, c, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, run.GetID())
	if existed {
		fmt.Fprintf(e.stderr, "journey %s already exists: nothing new was sent\n", run.GetID())
	}
	if !*wait {
		return nil
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("journey %s ended with an error: %v", run.GetID(), err)}
	}
	if res.Outcome != workflows.OutcomeDelivered {
		return &exitError{code: 1, msg: fmt.Sprintf("journey %s %s (see: switchback status %s)", run.GetID(), res.Outcome, run.GetID())}
	}
	fmt.Fprintf(e.stderr, "journey %s: %s on %s (message %s)\n", run.GetID(), res.Status, res.Channel, res.MessageID)
	return nil
}
