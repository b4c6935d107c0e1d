package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

const broadcastUsage = "start JOURNEY --segment S [--var k=v] [--rate R] [--id ID] | status ID [--json] | pause ID | resume ID | cancel ID"

func runBroadcast(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return &usageError{"give a subcommand: " + broadcastUsage}
	}
	switch args[0] {
	case "start":
		return runBroadcastStart(ctx, e, args[1:])
	case "status":
		return runBroadcastStatus(ctx, e, args[1:])
	case workflows.UpdatePause, workflows.UpdateResume, workflows.UpdateCancel:
		return runBroadcastSteer(ctx, e, args[0], args[1:])
	}
	return &usageError{fmt.Sprintf("unknown subcommand %q: want start, status, pause, resume or cancel", args[0])}
}

func runBroadcastStart(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "broadcast start", "broadcast start JOURNEY --segment S [--var name=value ...] [--rate 50] [--id ID]")
	segment := fs.String("segment", "", "the segment whose contacts get the journey (switchback segment list)")
	rate := fs.Float64("rate", workflows.DefaultBroadcastRate, "the most journeys started per second")
	id := fs.String("id", "", "the broadcast's id; a repeated start with the same id sends nothing (default: a new id)")
	vars := varsFlag{}
	fs.Var(vars, "var", "journey variable name=value, the same for every contact (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one journey name"}
	}
	in, err := broadcastInput(pos[0], *segment, vars, *rate)
	if err != nil {
		return err
	}
	if *id == "" {
		*id = workflows.NewBroadcastID(in.Journey, in.Segment)
	} else if err := workflows.CheckBroadcastID(*id); err != nil {
		return &usageError{"--id: " + err.Error()}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Segment(ctx, in.Segment); errors.Is(err, store.ErrNotFound) {
		return &usageError{fmt.Sprintf("--segment %q: no such segment (switchback segment list)", in.Segment)}
	} else if err != nil {
		return err
	}
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	_, existed, err := workflows.StartBroadcast(ctx, c, *id, in)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, *id)
	if existed {
		fmt.Fprintf(e.stderr, "broadcast %s already exists: nothing new was sent (switchback broadcast status %s)\n", *id, *id)
	}
	return nil
}

// broadcastInput checks a broadcast's journey, segment name, variables and
// rate, naming what is wrong, and returns its input.
func broadcastInput(journey, segment string, vars map[string]string, rate float64) (workflows.BroadcastInput, error) {
	j, err := journeys.Builtin(journey, app.Channels())
	if err != nil {
		return workflows.BroadcastInput{}, &usageError{err.Error()}
	}
	if segment == "" {
		return workflows.BroadcastInput{}, &usageError{"--segment is required"}
	}
	if err := j.CheckVars(vars); err != nil {
		return workflows.BroadcastInput{}, &usageError{fmt.Sprintf("journey %s: %v", journey, err)}
	}
	if rate <= 0 {
		return workflows.BroadcastInput{}, &usageError{fmt.Sprintf("--rate %v: want more than 0 journeys a second", rate)}
	}
	return workflows.BroadcastInput{Journey: journey, Segment: segment, Vars: vars, Rate: rate, At: time.Now().UTC()}, nil
}

func runBroadcastStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "broadcast status", "broadcast status ID [--json]")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one broadcast id"}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := workflows.GetBroadcastStatus(ctx, c, st, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printBroadcast(e.stdout, s)
	return nil
}

func runBroadcastSteer(ctx context.Context, e *env, update string, args []string) error {
	fs := newFlagSet(e, "broadcast "+update, "broadcast "+update+" ID")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give one broadcast id"}
	}
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := workflows.SteerBroadcast(ctx, c, pos[0], update)
	var te *workflows.TransitionError
	if errors.As(err, &te) {
		return &exitError{code: 1, msg: te.Msg}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "broadcast %s: %s\n", s.ID, s.Phase)
	return nil
}

// printBroadcast prints a broadcast's status for people, with a progress
// bar of the members handled.
func printBroadcast(w io.Writer, s workflows.BroadcastStatus) {
	fmt.Fprintf(w, "broadcast  %s: journey %s to segment %s\nphase      %s\n", s.ID, s.Journey, s.Segment, s.Phase)
	if s.PauseClass != "" {
		fmt.Fprintf(w, "paused     %s: %s (resume: switchback broadcast resume %s)\n", s.PauseClass, s.PauseReason, s.ID)
	}
	if !s.TierWaitUntil.IsZero() {
		fmt.Fprintf(w, "waiting    for room under the WhatsApp messaging limit until %s\n", s.TierWaitUntil.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "%s  %d of %d\n", progressBar(s.Done(), s.Total, 30), s.Done(), s.Total)
	fmt.Fprintf(w, "started    %d\nalready    %d (started before: nothing sent again)\n", s.Started, s.AlreadyStarted)
	fmt.Fprintf(w, "skipped    %s\n", skipped(s.Skipped))
	fmt.Fprintf(w, "delivered  %d\nfailed     %d\nremaining  %d\n", s.Delivered, s.Failed, s.Remaining)
	fmt.Fprintf(w, "rate       %.1f/s (at most %g/s)\nruns       %d\n", s.Rate, s.Limit, s.Runs)
	if s.TierWaits > 0 {
		fmt.Fprintf(w, "tier waits %d\n", s.TierWaits)
	}
}

// progressBar draws done of total as [#####.....] 50%, width marks wide.
func progressBar(done, total, width int) string {
	done = min(done, total)
	if total <= 0 {
		done, total = 1, 1
	}
	n := done * width / total
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/total)
}

// skipped lists skip counts by reason, e.g. "3 (no-number 2, contact-gone 1)".
func skipped(m map[activities.SkipReason]int) string {
	total := 0
	var parts []string
	for r, n := range m {
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", r, n))
	}
	if total == 0 {
		return "0"
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}
