package apptest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/telemetry"
	"github.com/switchbackhq/switchback/sandbox"
)

// Options configure StartWith. The zero value starts what Start starts.
type Options struct {
	// NoWorkers starts no workers in the test process: the test runs them
	// elsewhere, e.g. in a subprocess with RunWorker and Stack.WorkerEnv.
	NoWorkers bool
	// StatusDelay is the sandbox's pause before each status callback.
	// Zero means 20ms; negative means none.
	StatusDelay time.Duration
	// Sandbox, if set, adjusts the sandbox's configuration before it starts.
	Sandbox func(*sandbox.Config)
	// Providers, if set, wraps the sandbox's provider handler (with paths
	// as the providers see them, e.g. /v23.0/{id}/messages): a Faults
	// injects outages there.
	Providers func(http.Handler) http.Handler
	// Webhooks, if set, wraps the handler of the /webhooks/ routes, to
	// count answers or inject faults.
	Webhooks func(http.Handler) http.Handler
	// WebhookProxy makes the webhooks reach Temporal through Stack.Proxy,
	// which a test can take down; the workers reach it directly.
	WebhookProxy bool
	// SignalTimeout bounds each signal the webhooks send (default: the
	// webhooks' own, 10s).
	SignalTimeout time.Duration
	// Plaintext leaves payloads in clear (SWITCHBACK_INSECURE_PLAINTEXT),
	// as the recorded histories of the replay test keep them. Otherwise
	// the Stack encrypts with a fresh key, as production does.
	Plaintext bool
	// Configure, if set, changes the Stack's configuration before anything
	// starts (keys, rate limits, tokens).
	Configure func(*config.Config)
	// Logger, if set, receives the logs of the activities, the Temporal
	// SDK's client and workers, the webhooks and the sandbox. Nil: only the
	// SDK logs, to the test's log.
	Logger *slog.Logger
	// Telemetry, if set, takes the metrics and (when it traces) the spans
	// of the Stack's client and workers, and is served on the HTTP
	// server's /metrics.
	Telemetry *telemetry.Telemetry
}

// timeoutSignaler bounds each signal with a timeout.
type timeoutSignaler struct {
	next interface {
		SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	}
	timeout time.Duration
}

func (s timeoutSignaler) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.next.SignalWorkflow(ctx, workflowID, runID, signalName, arg)
}

// routeWebhooks sends /webhooks/ requests to webhooks and the rest to h.
func routeWebhooks(h, webhooks http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/webhooks/") {
			webhooks.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Proxy is a TCP proxy on loopback that a test can take down: while down
// it drops its connections and closes new ones at once, as an unreachable
// server would look to a gRPC client.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// NewProxy starts a Proxy to target; t's cleanup stops it.
func NewProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.SetDown(true)
	})
	return p
}

// Addr returns the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDown takes the proxy down (dropping every connection) or brings it
// back.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.pipe(in)
	}
}

// pipe copies between in and a new connection to the target.
func (p *Proxy) pipe(in net.Conn) {
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		in.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(out, in)
	go cp(in, out)
	<-done
	in.Close()
	out.Close()
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}
