// Package eventstream delivers the message event log to the business's
// own system: each event RecordEvent adds is POSTed as JSON (Event) to
// SWITCHBACK_EVENTS_URL, signed per Standard Webhooks (package
// stdwebhook), at least once.
//
// Events wait in the store's outbox (store.OutboxEvent), which
// RecordEvent fills in the transaction that adds the event, so no
// workflow code sends anything and an event recorded is an event
// delivered, whatever restarts in between. A Dispatcher, run by every
// worker process, claims due events for a lease (several dispatchers on
// one store never hold the same event at once), POSTs them, and removes
// each one that a 2xx answered; any other outcome makes it due again
// after an exponential backoff with jitter, or after Retry-After when
// that is longer. A receiver may get an event more than once (a lease
// that ran out, a 2xx lost on the way back): it de-duplicates on the
// event's id, also sent as webhook-id.
package eventstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchbackhq/switchback/internal/stdwebhook"
	"github.com/switchbackhq/switchback/store"
)

// Outbox is the part of store.Store a Dispatcher uses.
type Outbox interface {
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxEvent, error)
	AckOutbox(ctx context.Context, seq int64) error
	RetryOutbox(ctx context.Context, seq int64, claims int, at time.Time, lastErr string) (bool, error)
}

// Options configures a Dispatcher. Zero durations and sizes take the
// defaults.
type Options struct {
	// URL receives the events: an absolute http or https URL.
	URL string
	// Secret signs them: whsec_ and the base64 of a key of at least 24
	// bytes.
	Secret string
	// Client sends the requests; nil: a client with Timeout.
	Client *http.Client
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// Batch is how many events one claim takes (default 10).
	Batch int
	// Lease is how long a claim holds its events (default 5m); it must
	// exceed Batch × Timeout, the longest a batch can take.
	Lease time.Duration
	// Poll is the pause after a claim found less than a batch (default 1s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the pause before an event is tried
	// again (defaults 1s and 1h): MinBackoff doubled for each failed try,
	// at most MaxBackoff, less up to half of it at random.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives delivery failures; nil: none.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultBatch      = 10
	DefaultLease      = 5 * time.Minute
	DefaultPoll       = time.Second
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Hour
)

// Dispatcher delivers the outbox's events. Run it in one goroutine;
// several processes may each run one on the same store.
type Dispatcher struct {
	out    Outbox
	opts   Options
	signer *stdwebhook.Signer
	client *http.Client
	logger *slog.Logger
}

// New returns a Dispatcher of out's events, configured by opts.
func New(out Outbox, opts Options) (*Dispatcher, error) {
	if err := checkURL(opts.URL); err != nil {
		return nil, fmt.Errorf("event stream URL: %w", err)
	}
	signer, err := stdwebhook.NewSigner(opts.Secret)
	if err != nil {
		return nil, fmt.Errorf("event stream: %w", err)
	}
	opts = withDefaults(opts)
	if opts.Lease <= time.Duration(opts.Batch)*opts.Timeout {
		return nil, fmt.Errorf("event stream: lease %v must exceed %d events × %v timeout", opts.Lease, opts.Batch, opts.Timeout)
	}
	if opts.MaxBackoff < opts.MinBackoff {
		return nil, fmt.Errorf("event stream: MaxBackoff %v is below MinBackoff %v", opts.MaxBackoff, opts.MinBackoff)
	}
	d := &Dispatcher{out: out, opts: opts, signer: signer, client: opts.Client, logger: opts.Logger}
	if d.client == nil {
		d.client = &http.Client{Timeout: opts.Timeout}
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.Lease, DefaultLease)
	def(&o.Poll, DefaultPoll)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	return o
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

// Run delivers events until ctx is done. A store error is logged and
// tried again after Poll.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		n, err := d.Deliver(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.logger.Error("event stream", "error", err)
		}
		if err == nil && n == d.opts.Batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.opts.Poll):
		}
	}
}

// Deliver claims one batch of due events and tries to deliver each; it
// returns how many it claimed. Events it could not try before ctx ended
// are made due again at once, for the next dispatcher.
func (d *Dispatcher) Deliver(ctx context.Context) (int, error) {
	claimed, err := d.out.ClaimOutbox(ctx, time.Now(), d.opts.Lease, d.opts.Batch)
	if err != nil {
		return 0, err
	}
	for i, o := range claimed {
		if ctx.Err() != nil {
			d.release(claimed[i:])
			break
		}
		if err := d.deliverOne(ctx, o); err != nil {
			return len(claimed), err
		}
	}
	return len(claimed), nil
}

// release makes claimed events due now; ctx is done, so it has a context
// of its own.
func (d *Dispatcher) release(claimed []store.OutboxEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	for _, o := range claimed {
		if _, err := d.out.RetryOutbox(ctx, o.Seq, o.Claims, now, "released at shutdown"); err != nil {
			d.logger.Warn("event stream: release at shutdown", "event", EventID(o.Event), "error", err)
			return
		}
	}
}

// deliverOne POSTs one event, then acknowledges it or schedules its next
// try. Only a store error is returned.
func (d *Dispatcher) deliverOne(ctx context.Context, o store.OutboxEvent) error {
	ev := NewEvent(o.Event)
	retryAfter, err := d.post(ctx, ev)
	if err == nil {
		return d.out.AckOutbox(ctx, o.Seq)
	}
	wait := max(d.backoff(o.Claims), retryAfter)
	if ctx.Err() != nil {
		wait = 0 // the try was cut short by shutdown, not refused
	} else {
		d.logger.Warn("event stream: delivery failed", "event", ev.ID, "type", ev.Type, "try", o.Claims,
			"retry_in", wait.Round(time.Millisecond), "error", err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, serr := d.out.RetryOutbox(rctx, o.Seq, o.Claims, time.Now().Add(wait), err.Error())
	return serr
}

// backoff is the pause after the claims-th failed try.
func (d *Dispatcher) backoff(claims int) time.Duration {
	b := d.opts.MinBackoff
	for i := 1; i < claims && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	return b - rand.N(b/2+1)
}

// post sends ev and returns nil for a 2xx; otherwise an error saying why
// (never the URL, which may hold a token) and the response's Retry-After.
func (d *Dispatcher) post(ctx context.Context, ev Event) (time.Duration, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.opts.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchback-Events")
	if err := d.signer.Sign(req.Header, ev.ID, time.Now(), body); err != nil {
		return 0, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	return retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("HTTP %d", resp.StatusCode)
}

// retryAfter parses a Retry-After value, delta-seconds or an HTTP date;
// zero when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
