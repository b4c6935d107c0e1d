// Package sendhttp holds what the channel clients share about HTTP sends:
// telling a send that never reached the provider from one whose outcome is
// unknown, and reading how long a provider asks to wait.
package sendhttp

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// Tracker records whether a request was written in full to the connection.
// A send that fails after that may have been accepted by the provider.
type Tracker struct{ wrote atomic.Bool }

// Trace returns ctx with a trace that marks t once a request made with the
// returned context has been written without error.
func (t *Tracker) Trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t.wrote.Store(true)
			}
		},
	})
}

// Written reports whether a request was written in full.
func (t *Tracker) Written() bool { return t.wrote.Load() }

// maxRetryAfter bounds what a provider can ask for: longer waits are cut to
// this, so that a bad header cannot stall a journey.
const maxRetryAfter = 10 * time.Minute

// RetryAfter returns the wait that h asks for before a retry: Retry-After
// in seconds or as an HTTP date, else X-RateLimit-Reset as Unix seconds
// (SendGrid), measured from now. It returns 0 when neither header is
// usable, and never more than 10 minutes.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil {
			d = at.Sub(now)
		}
	} else if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = time.Unix(secs, 0).Sub(now)
		}
	}
	switch {
	case d < 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// Snippet returns the start of a response body for an error message.
func Snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// SendError builds the SendError of a send on ch through provider.
// Configuration errors are permanent; so is anything not retryable.
func SendError(ch channels.Channel, provider, code, reason string, retryable, config bool, err error) *channels.SendError {
	return &channels.SendError{
		Channel:   ch,
		Provider:  provider,
		Code:      code,
		Reason:    reason,
		Permanent: !retryable || config,
		Config:    config,
		Err:       err,
	}
}
