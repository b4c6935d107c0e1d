package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/journeys"
)

func runStart(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "start", "start JOURNEY|--file journey.yaml --to NUMBER [--var name=value ...] [--push-token T ...] [--id KEY] [--wait]")
	to := fs.String("to", "", "recipient phone number, E.164 (+15551234567)")
	email := fs.String("email", "", "recipient email address, for email attempts")
	tz := fs.String("timezone", "", "recipient IANA time zone, for quiet hours")
	id := fs.String("id", "", "workflow id; a repeated start with the same id sends nothing")
	wait := fs.Bool("wait", false, "wait until the journey ends or awaits the customer; exit 1 if it failed")
	file := fs.String("file", "", "journey definition file (default: the built-in JOURNEY); JOURNEY, if given, must be its name")
	vars := varsFlag{}
	fs.Var(vars, "var", "journey variable name=value (repeatable)")
	var tokens tokensFlag
	fs.Var(&tokens, "push-token", "device token of the recipient's app, for push attempts; kept with the contact (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	j, err := loadJourney(*file, pos)
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
	opts := journeys.StartOptions{Journey: j, To: *to, Email: *email, PushTokens: tokens, TimeZone: *tz, Vars: vars, ID: *id, ContactKey: cfg.ContactKeyOrDefault()}
	if err := opts.Check(); err != nil {
		return err
	}
	if err := keepTokens(ctx, e, *to, tokens); err != nil {
		return err
	}
	c, err := dial(ctx, cfg, newLogger(e, cfg))
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
	return waitJourney(ctx, e, c, run)
}

// tokensFlag collects the values of a repeated --push-token, each checked.
type tokensFlag []string

// String shows no token: flag prints it as the default.
func (f *tokensFlag) String() string { return "" }

func (f *tokensFlag) Set(s string) error {
	if err := push.CheckToken(s); err != nil {
		return err
	}
	*f = append(*f, s)
	return nil
}

// keepTokens stores the device tokens of a start with the contact of
// number, before the journey starts: a later journey sends to them too.
func keepTokens(ctx context.Context, e *env, number string, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	st, secret, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.AddDeviceTokens(ctx, journeys.ContactKey(secret, number), tokens, time.Now().UTC())
}

// waitJourney waits until the journey ends, or waits only for the customer
// or the backend, and reports how it stands. It fails when the journey
// failed, expired, was locked or canceled.
func waitJourney(ctx context.Context, e *env, c client.Client, run client.WorkflowRun) error {
	id := run.GetID()
	tl, err := journeys.WaitSettled(ctx, c, id, 250*time.Millisecond)
	if err != nil {
		return err
	}
	if tl.Outcome == journeys.OutcomeRunning {
		if d := tl.Delivery; d != nil {
			fmt.Fprintf(e.stderr, "journey %s: %s on %s (message %s)\n", id, d.Status, d.Channel, d.MessageID)
		}
		fmt.Fprintf(e.stderr, "journey %s is running, awaiting %s\n", id, tl.Awaiting)
		return nil
	}
	var res journeys.Result
	if err := run.Get(ctx, &res); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("journey %s ended: %v", id, err)}
	}
	switch res.Outcome {
	case journeys.OutcomeDelivered, journeys.OutcomeCompleted, journeys.OutcomeConverted, journeys.OutcomeVerified:
		if res.Channel != "" {
			fmt.Fprintf(e.stderr, "journey %s %s: %s on %s (message %s)\n", id, res.Outcome, res.Status, res.Channel, res.MessageID)
		} else {
			fmt.Fprintf(e.stderr, "journey %s %s\n", id, res.Outcome)
		}
		return nil
	}
	return &exitError{code: 1, msg: fmt.Sprintf("journey %s %s (see: switchback status %s)", id, res.Outcome, id)}
}
