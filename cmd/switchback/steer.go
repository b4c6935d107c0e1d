package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/tabwriter"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
)

// Exit statuses of verify and signal, beside 0 (done), 1 (failed or a
// wrong code) and 2 (a mistake in the command line).
const (
	// exitEnded: the journey has ended; it takes no more events or codes.
	exitEnded = 3
	// exitEventIgnored: the journey would ignore the event, which lacks a
	// param its handler needs (or has one of the wrong type); nothing was
	// sent.
	exitEventIgnored = 4
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify", "verify WORKFLOW_ID CODE")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return &usageError{"give a workflow id and the code the customer typed"}
	}
	c, err := dialEnv(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := journeys.Verify(ctx, c, pos[0], pos[1])
	if err != nil {
		return journeyCallError(ctx, c, pos[0], err)
	}
	if !res.Verified {
		return &exitError{code: 1, msg: fmt.Sprintf("wrong code for %s: %d checks left", pos[0], res.Remaining)}
	}
	fmt.Fprintf(e.stdout, "verified %s\n", pos[0])
	return nil
}

func runSignal(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "signal", "signal WORKFLOW_ID EVENT [--var name=value ...] [--event-id ID] [--start JOURNEY --to NUMBER [--start-var name=value ...]]")
	vars := varsFlag{}
	fs.Var(vars, "var", "event variable name=value (repeatable); with --start, also fills the journey's params that --start-var does not")
	eventID := fs.String("event-id", "", "deduplication id: an event with an id already seen is ignored")
	start := fs.String("start", "", "start this built-in journey with the workflow id if it is not running (signal-with-start)")
	to := fs.String("to", "", "recipient of the journey --start starts")
	startVars := varsFlag{}
	fs.Var(startVars, "start-var", "journey variable for --start only, name=value (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return &usageError{"give a workflow id and an event name"}
	}
	id, ev := pos[0], journeys.EventInput{Name: pos[1], Vars: vars, ID: *eventID}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	if *start == "" {
		return signalRunning(ctx, e, cfg, id, ev)
	}
	j, err := journeys.Builtin(*start, app.Channels())
	if err != nil {
		return err
	}
	opts := journeys.StartOptions{Journey: j, To: *to, Vars: startParams(j, vars, startVars), ID: id, ContactKey: cfg.ContactKeyOrDefault()}
	if err := opts.Check(); err != nil {
		return err
	}
	if err := checkEvent(j, ev); err != nil {
		return err
	}
	c, err := dial(ctx, cfg, newLogger(e, cfg))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := journeys.SignalWithStart(ctx, c, opts, ev); err != nil {
		return journeyCallError(ctx, c, id, err)
	}
	fmt.Fprintf(e.stdout, "sent %s to %s\n", ev.Name, id)
	return nil
}

// signalRunning sends ev to the journey id, after checking it against the
// journey's definition, read from the start of its history.
func signalRunning(ctx context.Context, e *env, cfg config.Config, id string, ev journeys.EventInput) error {
	dc, err := app.DataConverter(cfg)
	if err != nil {
		return err
	}
	c, err := dial(ctx, cfg, newLogger(e, cfg))
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := journeys.ReadStart(ctx, c, dc, id)
	if err != nil {
		return journeyCallError(ctx, c, id, err)
	}
	if err := checkEvent(st.Input.Journey, ev); err != nil {
		return err
	}
	if err := journeys.Signal(ctx, c, id, ev); err != nil {
		return journeyCallError(ctx, c, id, err)
	}
	fmt.Fprintf(e.stdout, "sent %s to %s\n", ev.Name, id)
	return nil
}

// startParams returns the variables of a journey that signal --start
// starts: those of --start-var, and each param of j that only --var gives.
func startParams(j journeys.Journey, vars, startVars map[string]string) map[string]string {
	out := maps.Clone(startVars)
	if out == nil {
		out = map[string]string{}
	}
	for _, p := range j.Params {
		if v, ok := vars[p.Name]; ok && out[p.Name] == "" {
			out[p.Name] = v
		}
	}
	return out
}

// checkEvent refuses an event that journey j would ignore for its params.
func checkEvent(j journeys.Journey, ev journeys.EventInput) error {
	err := j.CheckEvent(ev)
	var pe *journeys.EventVarsError
	if !errors.As(err, &pe) {
		return err
	}
	msg := err.Error()
	if len(pe.Missing) > 0 {
		msg += fmt.Sprintf(" (pass --var %s=...)", pe.Missing[0])
	}
	return &exitError{code: exitEventIgnored, msg: msg + "; nothing was sent"}
}

// journeyCallError says in words why a call to the journey id failed
// because it has ended (exit status exitEnded) or does not exist.
func journeyCallError(ctx context.Context, c client.Client, id string, err error) error {
	err = journeys.CheckEnded(ctx, c, id, err)
	var ended *journeys.EndedError
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &ended):
		return &exitError{code: exitEnded, msg: ended.Error()}
	case errors.As(err, &notFound):
		return fmt.Errorf("no journey with id %s", id)
	}
	return err
}

func runList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "list", "list [--journey NAME] [--contact NUMBER] [--status running|delivered|failed|...] [--limit N]")
	journey := fs.String("journey", "", "only journeys of this name")
	contact := fs.String("contact", "", "only journeys to this phone number (matched by its contact key)")
	status := fs.String("status", "", "only journeys with this outcome (running, delivered, verified, failed, ...)")
	limit := fs.Int("limit", 50, "at most this many journeys")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	q := []string{fmt.Sprintf("WorkflowType = %q", journeys.WorkflowType)}
	if *journey != "" {
		q = append(q, fmt.Sprintf("%s = %q", journeys.JourneyAttr.GetName(), *journey))
	}
	if *contact != "" {
		if err := journeys.CheckRecipient(*contact); err != nil {
			return err
		}
		q = append(q, fmt.Sprintf("%s = %q", journeys.ContactAttr.GetName(), journeys.ContactKey(cfg.ContactKeyOrDefault(), *contact)))
	}
	if *status != "" {
		q = append(q, fmt.Sprintf("%s = %q", journeys.OutcomeAttr.GetName(), *status))
	}
	c, err := dial(ctx, cfg, newLogger(e, cfg))
	if err != nil {
		return err
	}
	defer c.Close()
	return listJourneys(ctx, e, c, strings.Join(q, " AND "), *limit)
}

func listJourneys(ctx context.Context, e *env, c client.Client, query string, limit int) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW ID\tJOURNEY\tOUTCOME\tCHANNEL\tSTARTED")
	var token []byte
	n := 0
	for n < limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token, PageSize: int32(min(limit-n, 100))})
		if err != nil {
			return fmt.Errorf("list journeys (%s): %w", query, err)
		}
		for _, ex := range resp.GetExecutions() {
			attrs := ex.GetSearchAttributes().GetIndexedFields()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ex.GetExecution().GetWorkflowId(),
				keyword(attrs, journeys.JourneyAttr.GetName()), keyword(attrs, journeys.OutcomeAttr.GetName()),
				keyword(attrs, journeys.ChannelAttr.GetName()), ex.GetStartTime().AsTime().Format("2006-01-02 15:04:05"))
			n++
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return tw.Flush()
}

// keyword decodes a Keyword search attribute, or returns "".
func keyword(attrs map[string]*commonpb.Payload, name string) string {
	var s string
	if p, ok := attrs[name]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}
