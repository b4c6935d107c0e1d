package console

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of the failed-login limit.
const (
	// DefaultLoginFailures is how many wrong tokens one client may send
	// within DefaultLoginWindow before its logins are refused.
	DefaultLoginFailures = 10
	// DefaultLoginWindow is the window failed logins are counted over.
	DefaultLoginWindow = 15 * time.Minute
	// maxLoginClients bounds the clients remembered: past it, the oldest
	// failures are forgotten first.
	maxLoginClients = 10000
)

// loginLimiter counts failed logins per client (its IP address) over a
// sliding window, so that the console token cannot be guessed at speed.
// Behind a proxy every client shares the proxy's address: the limit then
// holds for all of them together, which still bounds guessing.
type loginLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time // oldest first
}

func newLoginLimiter(max int, window time.Duration, now func() time.Time) *loginLimiter {
	if max <= 0 {
		max = DefaultLoginFailures
	}
	if window <= 0 {
		window = DefaultLoginWindow
	}
	return &loginLimiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// clientAddr is the key of r's client: the host of its remote address.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// wait returns how long r's client must wait before its next login is
// heard, or 0.
func (l *loginLimiter) wait(r *http.Request) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(clientAddr(r))
	if len(fs) < l.max {
		return 0
	}
	return fs[len(fs)-l.max].Add(l.window).Sub(l.now())
}

// fail counts a failed login of r's client.
func (l *loginLimiter) fail(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := clientAddr(r)
	if _, known := l.failures[k]; !known && len(l.failures) >= maxLoginClients {
		l.forgetOldest()
	}
	l.failures[k] = append(l.recent(k), l.now())
}

// succeed forgets the failures of r's client.
func (l *loginLimiter) succeed(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, clientAddr(r))
}

// recent returns k's failures within the window, dropping older ones.
func (l *loginLimiter) recent(k string) []time.Time {
	fs := l.failures[k]
	cut := l.now().Add(-l.window)
	i := 0
	for i < len(fs) && !fs[i].After(cut) {
		i++
	}
	if fs = fs[i:]; len(fs) == 0 {
		delete(l.failures, k)
	} else {
		l.failures[k] = fs
	}
	return fs
}

// forgetOldest forgets the client whose latest failure is the oldest.
func (l *loginLimiter) forgetOldest() {
	var oldest string
	var at time.Time
	for k, fs := range l.failures {
		if last := fs[len(fs)-1]; oldest == "" || last.Before(at) {
			oldest, at = k, last
		}
	}
	delete(l.failures, oldest)
}
