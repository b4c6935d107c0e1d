package apptest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
)

// WorkerEnv returns the environment (NAME=value) under which
// config.FromEnv reads the Stack's configuration, for a worker in another
// process (RunWorker): app.WorkerEnviron of its configuration.
func (s *Stack) WorkerEnv() []string {
	c := s.Config
	c.TemporalAddress, c.TemporalNamespace = s.FrontendAddr, s.Namespace
	return app.WorkerEnviron(c)
}

// RunWorker runs Switchback's workers, configured from getenv as
// `switchback worker` is, until ctx is done: the body of a worker
// subprocess that a test kills.
func RunWorker(ctx context.Context, getenv func(string) string) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	copts, err := app.ClientOptions(cfg, sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), nil)
	if err != nil {
		return err
	}
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return fmt.Errorf("worker: connect to Temporal: %w", err)
	}
	defer c.Close()
	ws, err := app.Workers(c, app.WorkerOptions{Config: cfg, Store: st})
	if err != nil {
		return err
	}
	if err := app.StartWorkers(ws); err != nil {
		return err
	}
	defer app.StopWorkers(ws)
	stopEvents, err := app.StartEventStream(ctx, cfg, st, nil)
	if err != nil {
		return err
	}
	defer stopEvents()
	<-ctx.Done()
	return nil
}

// SendKey names the journey attempt a sandbox send belongs to, from the
// correlation it carried ("workflow-id#attempt"), or "" when it carried
// none.
func SendKey(m sandbox.SentMessage) string {
	if c, ok := channels.ParseCorrelation(m.CallbackData); ok {
		return c.WorkflowID + "#" + strconv.Itoa(c.Attempt)
	}
	if u, err := url.Parse(m.StatusCallback); err == nil && m.StatusCallback != "" {
		if q := u.Query(); q.Get(twilio.QueryWorkflowID) != "" {
			return q.Get(twilio.QueryWorkflowID) + "#" + q.Get(twilio.QueryAttempt)
		}
	}
	return ""
}

// Duplicates returns, for each journey attempt the sandbox received more
// than one send for, how many it received.
func Duplicates(sent []sandbox.SentMessage) map[string]int {
	n := map[string]int{}
	for _, m := range sent {
		if k := SendKey(m); k != "" {
			n[k]++
		}
	}
	for k, v := range n {
		if v < 2 {
			delete(n, k)
		}
	}
	return n
}
