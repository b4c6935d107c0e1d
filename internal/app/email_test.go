package app_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// signals records the status signals the webhooks send.
type signals struct {
	mu  sync.Mutex
	got map[string][]channels.StatusUpdate // by workflow id
}

func (s *signals) SignalWorkflow(_ context.Context, workflowID, _, _ string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[workflowID] = append(s.got[workflowID], arg.(channels.StatusUpdate))
	return nil
}

func (s *signals) statuses(workflowID string) []channels.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []channels.Status
	for _, u := range s.got[workflowID] {
		out = append(out, u.Status)
	}
	return out
}

// The sandbox's SendGrid lookalike, wired as `switchback dev` wires it:
// the email sender sends to it, and its signed events come back through
// the real /webhooks/sendgrid handler as status signals.
func TestSandboxSendGridThroughWebhook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr = ln.Addr().String()
	cfg, sc, replaced := app.UseSandbox(cfg)
	if !slices.Contains(replaced, "SendGrid email") || !slices.Contains(replaced, "push") || cfg.SendGrid.WebhookPublicKey == "" {
		t.Fatalf("UseSandbox replaced %v, SendGrid %+v", replaced, cfg.SendGrid)
	}
	sc.StatusDelay = 5 * time.Millisecond
	sb, err := sandbox.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if sb.SendGridPublicKey() != cfg.SendGrid.WebhookPublicKey {
		t.Fatal("the webhook is not configured with the sandbox's public key")
	}
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sig := &signals{got: map[string][]channels.StatusUpdate{}}
	h := app.HTTPHandler(app.HTTPOptions{
		Config: cfg, Temporal: sig, Messages: st,
		Extra: map[string]http.Handler{app.SandboxPrefix + "/": http.StripPrefix(app.SandboxPrefix, sb.Handler())},
	})
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln, h) }()
	defer func() {
		cancel()
		<-served
	}()

	senders, err := app.Senders(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		to   string
		want []channels.Status
	}{
		{"ana@example.com", []channels.Status{channels.StatusAccepted, channels.StatusDelivered, channels.StatusRead}},
		{sandbox.EmailBounce, []channels.Status{channels.StatusAccepted, channels.StatusFailed}},
		{sandbox.EmailDropped, []channels.Status{channels.StatusFailed}},
		{sandbox.EmailSpamReport, []channels.Status{channels.StatusAccepted, channels.StatusDelivered}},
	}
	for _, tt := range tests {
		_, err := senders[channels.Email].Send(ctx, channels.Message{
			Channel: channels.Email, To: tt.to,
			Email:       &channels.EmailContent{Subject: "Your code", Text: "493817"},
			Correlation: channels.Correlation{WorkflowID: "wf-" + tt.to, Attempt: 1},
		})
		if err != nil {
			t.Fatalf("send to %s: %v", tt.to, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, tt := range tests {
		var got []channels.Status
		for {
			got = sig.statuses("wf-" + tt.to)
			if len(got) >= len(tt.want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: statuses %v, want %v", tt.to, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: statuses %v, want %v", tt.to, got, tt.want)
				break
			}
		}
	}
}
