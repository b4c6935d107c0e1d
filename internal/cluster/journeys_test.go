package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
)

// kind is a recipient of the sandbox and how an otp journey to it ends.
type kind struct {
	name    string
	to      string
	email   string
	outcome journeys.Outcome
	channel channels.Channel // of the delivery the code was read from
}

// kinds are the mix of journeys: one of each in turn.
var kinds = []kind{
	{name: "whatsapp", to: sandbox.DefaultRecipient, outcome: journeys.OutcomeVerified, channel: channels.WhatsApp},
	{name: "sms", to: sandbox.WhatsAppUndeliverable, outcome: journeys.OutcomeVerified, channel: channels.SMS},
	{name: "email", to: sandbox.Unreachable, email: "someone@example.com", outcome: journeys.OutcomeVerified, channel: channels.Email},
	{name: "failed", to: sandbox.SMSInvalid, outcome: journeys.OutcomeFailed},
}

const code = "493817"

// apiClient is a backend calling serve's /v1 API. Like a careful backend
// it retries a call that got no answer or a 5xx, with the same
// Idempotency-Key for a start, until its context ends.
type apiClient struct {
	base, token string
	http        *http.Client
	retries     atomic.Int64 // calls tried again
	mu          sync.Mutex
	causes      map[string]int // why calls were tried again: method and status or error
}

// retried counts a call tried again, and why.
func (a *apiClient) retried(method string, status int, err error) {
	a.retries.Add(1)
	cause := strconv.Itoa(status)
	if err != nil {
		cause = "error"
		if errors.Is(err, context.DeadlineExceeded) {
			cause = "timeout"
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.causes == nil {
		a.causes = map[string]int{}
	}
	a.causes[method+"_"+cause]++
}

// retryCauses formats why calls were tried again.
func (a *apiClient) retryCauses() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(a.causes)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, a.causes[k]))
	}
	return strings.Join(parts, ",")
}

// call makes one API call, retried; out receives a 2xx answer's body. It
// returns the final status.
func (a *apiClient) call(ctx context.Context, method, path, key string, body, out any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	for {
		status, answer, err := a.once(ctx, method, path, key, payload)
		switch {
		case err == nil && status < 500:
			if status/100 == 2 && out != nil {
				return status, json.Unmarshal(answer, out)
			}
			if status/100 != 2 {
				return status, fmt.Errorf("%s %s: %d %s", method, path, status, answer)
			}
			return status, nil
		case ctx.Err() != nil:
			return status, fmt.Errorf("%s %s: %w (last: %d %v)", method, path, ctx.Err(), status, err)
		}
		a.retried(method, status, err)
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (a *apiClient) once(ctx context.Context, method, path, key string, payload []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(api.IdempotencyKeyHeader, key)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, answer, err
}

// result is how one journey went, as the backend saw it.
type result struct {
	id      string
	kind    kind
	started time.Time // when the start call was first made
	// accepted is when the start call returned.
	accepted time.Time
	ended    time.Time // when the backend saw the journey end
	outcome  journeys.Outcome
	channel  channels.Channel
	// timeoutFallback: the first attempt fell back for lack of a status in
	// time, which a disruption may cause.
	timeoutFallback bool
	// timeline is the last one read.
	timeline journeys.Timeline
	err      error
}

// right reports whether the journey ended as its kind says, or fell back
// for lack of a status in time and then ended right on a later channel.
func (r result) right() bool {
	if r.err != nil || r.outcome != r.kind.outcome {
		return false
	}
	return r.channel == r.kind.channel || r.timeoutFallback && r.kind.channel == channels.WhatsApp && r.channel != ""
}

// poll is how often the backend reads a journey's timeline (a query of
// the workflow each time).
var poll = flag.Duration("cluster.poll", time.Second, "how often the backend reads each running journey's timeline")

// run starts the journey id of kind k through the API, reads its timeline
// until a message is delivered, checks the code as the customer would
// type it, and returns when the journey ended (or ctx did).
func (a *apiClient) run(ctx context.Context, id string, k kind) result {
	r := result{id: id, kind: k, started: time.Now()}
	start := api.StartRequest{Journey: "otp", To: k.to, Email: k.email, Vars: map[string]string{"code": code}}
	if _, r.err = a.call(ctx, http.MethodPost, "/v1/journeys", id, start, nil); r.err != nil {
		return r
	}
	r.accepted = time.Now()
	verified := false
	for {
		var tl api.TimelineResponse
		if _, r.err = a.call(ctx, http.MethodGet, "/v1/journeys/"+url.PathEscape(id), "", nil, &tl); r.err != nil {
			return r
		}
		if tl.Outcome != journeys.OutcomeRunning {
			r.timeline = tl.Timeline
			r.ended, r.outcome = time.Now(), tl.Outcome
			if tl.Delivery != nil {
				r.channel = tl.Delivery.Channel
			}
			r.timeoutFallback = slices.ContainsFunc(tl.Events, func(e journeys.Event) bool {
				return e.Kind == journeys.EventFallback && e.Attempt == 1 && e.ReasonClass == store.ClassTimeout
			})
			return r
		}
		r.timeline = tl.Timeline
		if tl.Delivery != nil && !verified {
			// A check whose answer was lost (serve or Temporal down) and
			// that is made again finds the code verified or the journey
			// ended: 422, and the timeline tells how it ended.
			var v api.VerifyResponse
			status, err := a.call(ctx, http.MethodPost, "/v1/journeys/"+url.PathEscape(id)+"/verify", "", api.VerifyRequest{Code: code}, &v)
			if err != nil && status != http.StatusUnprocessableEntity {
				r.err = err
				return r
			}
			verified = true
			continue
		}
		select {
		case <-ctx.Done():
			r.err = fmt.Errorf("journey %s still running: %w", id, ctx.Err())
			return r
		case <-time.After(*poll):
		}
	}
}

// load runs journeys of every kind in turn, started at a steady rate
// until stop is called.
type load struct {
	api     *apiClient
	prefix  string
	mu      sync.Mutex
	results []result
	wg      sync.WaitGroup
	stop    context.CancelFunc
	done    chan struct{}
}

// startLoad starts perSecond journeys a second; each one runs until it
// ends or ctx does.
func startLoad(ctx context.Context, a *apiClient, prefix string, perSecond float64) *load {
	l := &load{api: a, prefix: prefix, done: make(chan struct{})}
	starter, stop := context.WithCancel(ctx)
	l.stop = stop
	go func() {
		defer close(l.done)
		tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-starter.Done():
				return
			case <-tick.C:
			}
			l.wg.Go(func() { l.add(a.run(ctx, fmt.Sprintf("%s-%05d", prefix, n), kinds[n%len(kinds)])) })
		}
	}()
	return l
}

func (l *load) add(r result) {
	l.mu.Lock()
	l.results = append(l.results, r)
	l.mu.Unlock()
}

// finish stops starting journeys and waits for every started one.
func (l *load) finish() []result {
	l.stop()
	<-l.done
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.results)
}

// burst runs n journeys of kind k at once and returns them.
func burst(ctx context.Context, a *apiClient, prefix string, n int, k kind) []result {
	out := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = a.run(ctx, fmt.Sprintf("%s-%05d", prefix, i), k) })
	}
	wg.Wait()
	return out
}
