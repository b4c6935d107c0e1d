package apptest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/twilio"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
)

// WorkerEnv returns the environment (NAME=value) under which config.FromEnv
// reads the Stack's configuration, for a worker in another process
// (RunWorker): Temporal, the store's data directory and the sandbox's
// WhatsApp and Twilio credentials and business number, the encryption key
// and the rate limits.
func (s *Stack) WorkerEnv() []string {
	c := s.Config
	env := []string{
		"SWITCHBACK_TEMPORAL_ADDRESS=" + s.FrontendAddr,
		"SWITCHBACK_TEMPORAL_NAMESPACE=" + s.Namespace,
		"SWITCHBACK_HTTP_ADDR=" + c.HTTPAddr,
		"SWITCHBACK_DATA_DIR=" + c.DataDir,
		"SWITCHBACK_ENCRYPTION_KEY=" + codec.FormatKeys(c.EncryptionKeys),
	}
	if c.InsecurePlaintext {
		env = append(env, "SWITCHBACK_INSECURE_PLAINTEXT=1")
	}
	for _, d := range app.Channels().Drivers() {
		if r, err := c.Rate(d); err == nil {
			env = append(env, fmt.Sprintf("SWITCHBACK_RATE_%s=%g", strings.ToUpper(string(d.Channel())), r))
		}
	}
	if w := c.WhatsApp; w != nil {
		env = append(env, "WHATSAPP_ACCESS_TOKEN="+w.AccessToken, "WHATSAPP_PHONE_NUMBER_ID="+w.PhoneNumberID,
			"WHATSAPP_APP_SECRET="+w.AppSecret, "WHATSAPP_VERIFY_TOKEN="+w.VerifyToken, "WHATSAPP_API_URL="+w.APIURL)
	}
	if n := c.WhatsAppBusinessNumber; n != "" {
		env = append(env, "WHATSAPP_BUSINESS_NUMBER="+n)
	}
	if t := c.Twilio; t != nil {
		env = append(env, "TWILIO_ACCOUNT_SID="+t.AccountSID, "TWILIO_AUTH_TOKEN="+t.AuthToken,
			"TWILIO_FROM="+t.From, "TWILIO_API_URL="+t.APIURL)
	}
	return env
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
