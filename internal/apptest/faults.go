package apptest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchbackhq/switchback/sandbox"
)

// Faults injects provider faults in front of the sandbox (Options.Providers
// = f.Wrap): outages that answer every send with an HTTP error for a while,
// and seeded random errors. A refused send never reaches the sandbox, so it
// is never delivered: retrying it is safe.
type Faults struct {
	mu       sync.Mutex
	outages  []outage
	rnd      *rand.Rand
	rate     float64
	injected map[string]int // by provider
	requests []Request
}

// Request is one send that reached Faults.
type Request struct {
	Provider string
	Time     time.Time
	Status   int // the injected HTTP status, or 0 when passed to the sandbox
}

type outage struct {
	provider   string
	status     int
	retryAfter time.Duration
	until      time.Time
}

// NewFaults returns a Faults that injects nothing yet.
func NewFaults() *Faults { return &Faults{injected: map[string]int{}} }

// Outage makes provider (sandbox.ProviderWhatsApp or sandbox.ProviderTwilio)
// answer every send with status for d from now, with a Retry-After header
// when retryAfter > 0.
func (f *Faults) Outage(provider string, status int, retryAfter, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outages = append(f.outages, outage{provider, status, retryAfter, time.Now().Add(d)})
}

// Random makes each send fail with HTTP 500 at rate (0 to 1), decided by a
// generator seeded with seed.
func (f *Faults) Random(seed uint64, rate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rnd, f.rate = rand.New(rand.NewPCG(seed, seed)), rate
}

// Injected returns how many sends were refused, by provider.
func (f *Faults) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.injected))
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

// Requests returns every send that reached f, oldest first.
func (f *Faults) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Wrap returns h with f's faults in front.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		provider := sandbox.ProviderWhatsApp
		if strings.HasPrefix(r.URL.Path, "/2010-04-01/") {
			provider = sandbox.ProviderTwilio
		}
		status, retryAfter := f.decide(provider)
		if status == 0 {
			h.ServeHTTP(w, r)
			return
		}
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Round(time.Second)/time.Second)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, errorBody(provider, status))
	})
}

// decide returns the status to inject for a send to provider, or 0.
func (f *Faults) decide(provider string) (int, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	req := Request{Provider: provider, Time: now}
	defer func() { f.requests = append(f.requests, req) }()
	for _, o := range f.outages {
		if o.provider == provider && now.Before(o.until) {
			req.Status = o.status
			f.injected[provider]++
			return o.status, o.retryAfter
		}
	}
	if f.rnd != nil && f.rnd.Float64() < f.rate {
		req.Status = http.StatusInternalServerError
		f.injected[provider]++
		return http.StatusInternalServerError, 0
	}
	return 0, 0
}

// errorBody returns an error body in the provider's shape: Graph's
// {"error": {...}} with code 2 (temporary) or 130429 (rate limit), or
// Twilio's {"code", "message", "status"}.
func errorBody(provider string, status int) string {
	if provider == sandbox.ProviderTwilio {
		code := 20500
		if status == http.StatusTooManyRequests {
			code = 20429
		}
		return fmt.Sprintf(`{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`,
			code, http.StatusText(status), code, status)
	}
	code, msg := 2, "Service temporarily unavailable"
	if status == http.StatusTooManyRequests {
		code, msg = 130429, "Rate limit hit"
	}
	return fmt.Sprintf(`{"error":{"message":"(#%d) %s","type":"OAuthException","code":%d,"fbtrace_id":"Afaults"}}`, code, msg, code)
}

// Answers records the answers of the webhook routes and can refuse a
// share of them with 503, at random from a seed, as a flaky load balancer
// would (Options.Webhooks = a.Wrap).
type Answers struct {
	mu      sync.Mutex
	rnd     *rand.Rand
	rate    float64
	answers []Answer
}

// Answer is one webhook request and how it was answered.
type Answer struct {
	Path string
	// Body is the request's body.
	Body     []byte
	Status   int
	Injected bool // the 503 came from Answers, not from Switchback
	Time     time.Time
}

// NewAnswers returns an Answers that refuses rate (0 to 1) of the requests,
// decided by a generator seeded with seed.
func NewAnswers(seed uint64, rate float64) *Answers {
	return &Answers{rnd: rand.New(rand.NewPCG(seed, seed)), rate: rate}
}

// All returns the answers so far, oldest first.
func (a *Answers) All() []Answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Answer(nil), a.answers...)
}

// Wrap returns h recording its answers and refusing some.
func (a *Answers) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		refuse := a.rnd.Float64() < a.rate
		a.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		ans := Answer{Path: r.URL.Path, Body: body, Injected: refuse}
		if refuse {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "injected: temporarily unavailable", http.StatusServiceUnavailable)
			ans.Status = http.StatusServiceUnavailable
		} else {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			ans.Status = rec.status
		}
		ans.Time = time.Now()
		a.mu.Lock()
		a.answers = append(a.answers, ans)
		a.mu.Unlock()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
