package eventstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("event-stream-test-key-32-bytes!!"))

// openStore opens the SQLite store at path (":memory:" for a private
// one) with the outbox on.
func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.OpenWith(context.Background(), path, store.Options{EventOutbox: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// request is what the receiver got.
type request struct {
	header http.Header
	body   []byte
}

// receiver is a loopback event-stream endpoint answering with the codes
// of answer, in turn, then 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	answer []int
	header http.Header // added to non-2xx answers
}

func newReceiver(t *testing.T, answer ...int) *receiver {
	r := &receiver{answer: answer, header: http.Header{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Header.Clone(), body})
		code := http.StatusOK
		if len(r.answer) > 0 {
			code, r.answer = r.answer[0], r.answer[1:]
		}
		r.mu.Unlock()
		if code >= 300 {
			for k, v := range r.header {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// verify checks req's signature with the Standard Webhooks library and
// returns its event.
func verify(t *testing.T, req request) Event {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.body, req.header); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	var ev Event
	if err := json.Unmarshal(req.body, &ev); err != nil {
		t.Fatalf("body %s: %v", req.body, err)
	}
	if id := req.header.Get("webhook-id"); id != ev.ID {
		t.Errorf("webhook-id %q, event id %q", id, ev.ID)
	}
	return ev
}

func newDispatcher(t *testing.T, st Outbox, url string, tweak func(*Options)) *Dispatcher {
	t.Helper()
	opts := Options{URL: url, Secret: secret, Timeout: time.Second, Poll: 5 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	d, err := New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run runs d until the test ends.
func run(t *testing.T, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

const number = "+15551234567"

// record records a failed status whose provider prose quotes the number.
func record(t *testing.T, st store.Store, messageID string) store.MessageEvent {
	t.Helper()
	e := store.MessageEvent{Provider: "twilio", MessageID: messageID, Status: store.EventFailed, Journey: "otp",
		WorkflowID: "otp-1", Step: "code", Attempt: 2, Channel: channels.SMS, ContactKey: "ck_hash",
		ErrorCode: "21211", ErrorReason: "The 'To' number " + number + " is not a valid phone number",
		ReasonClass: store.ClassFailedStatus, At: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}
	added, err := st.RecordEvent(context.Background(), e)
	if err != nil || !added {
		t.Fatalf("RecordEvent = %v, %v", added, err)
	}
	return e
}

// outboxLen counts the events due within a day.
func outboxLen(t *testing.T, st Outbox) int {
	t.Helper()
	got, err := st.ClaimOutbox(context.Background(), time.Now().Add(24*time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

func TestDeliverSignedEventWithoutPII(t *testing.T) {
	st := openStore(t, ":memory:")
	e := record(t, st, "SM1")
	r := newReceiver(t)
	d := newDispatcher(t, st, r.URL, nil)
	if n, err := d.Deliver(context.Background()); n != 1 || err != nil {
		t.Fatalf("Deliver = %d, %v; want 1 event", n, err)
	}
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	ev := verify(t, got[0])
	want := Event{ID: EventID(e), Type: TypeStatus, Timestamp: e.At, Data: Data{
		Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 2, Channel: "sms", Provider: "twilio", MessageID: "SM1",
		Status: "failed", ReasonClass: string(store.ClassFailedStatus), ErrorCode: "21211", ContactKey: "ck_hash"}}
	if ev != want {
		t.Errorf("event =\n%+v\nwant\n%+v", ev, want)
	}
	for _, pii := range []string{number, strings.TrimPrefix(number, "+"), "not a valid phone number"} {
		if strings.Contains(string(got[0].body), pii) {
			t.Errorf("body %s holds %q", got[0].body, pii)
		}
	}
	if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if n := outboxLen(t, st); n != 0 {
		t.Errorf("%d events left in the outbox after a 200", n)
	}
}

// TestRetriedUntilDelivered: a 500 then a 200 delivers the event twice
// with the same id, then never again.
func TestRetriedUntilDelivered(t *testing.T) {
	st := openStore(t, ":memory:")
	record(t, st, "SM1")
	r := newReceiver(t, http.StatusInternalServerError)
	run(t, newDispatcher(t, st, r.URL, nil))
	waitFor(t, "the retry", func() bool { return len(r.requests()) >= 2 })
	waitFor(t, "the acknowledgement", func() bool { return outboxLen(t, st) == 0 })
	time.Sleep(30 * time.Millisecond) // several polls
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	if a, b := verify(t, got[0]), verify(t, got[1]); a != b {
		t.Errorf("the retry differs:\n%+v\n%+v", a, b)
	}
}

// TestBackoff: a failed event is due again after the backoff, or after a
// longer Retry-After, and not before.
func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter string
		min, max   time.Duration
	}{
		{"backoff with jitter", "", 30 * time.Second, time.Minute},
		{"Retry-After seconds", "120", 2 * time.Minute, 2 * time.Minute},
		{"Retry-After date", time.Now().Add(3 * time.Minute).UTC().Format(http.TimeFormat), 2 * time.Minute, 3 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t, ":memory:")
			record(t, st, "SM1")
			r := newReceiver(t, http.StatusServiceUnavailable)
			r.header.Set("Retry-After", tt.retryAfter)
			d := newDispatcher(t, st, r.URL, func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Hour })
			start := time.Now()
			if _, err := d.Deliver(context.Background()); err != nil {
				t.Fatal(err)
			}
			early, err := st.ClaimOutbox(context.Background(), start.Add(tt.min-time.Second), time.Minute, 1)
			if err != nil || len(early) != 0 {
				t.Fatalf("claim before %v = %+v, %v; want none", tt.min, early, err)
			}
			due, err := st.ClaimOutbox(context.Background(), time.Now().Add(tt.max+time.Second), time.Minute, 1)
			if err != nil || len(due) != 1 || due[0].Claims != 2 {
				t.Fatalf("claim after %v = %+v, %v; want the event's second claim", tt.max, due, err)
			}
		})
	}
}

// TestReceiverDownAcrossRestart: an event that failed while the receiver
// was down is delivered by the next dispatcher, on the reopened store.
func TestReceiverDownAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchback.db")
	st, err := sqlite.OpenWith(context.Background(), path, store.Options{EventOutbox: true})
	if err != nil {
		t.Fatal(err)
	}
	e := record(t, st, "SM1")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := newDispatcher(t, st, down.URL, nil).Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := openStore(t, path)
	r := newReceiver(t)
	run(t, newDispatcher(t, st2, r.URL, nil))
	waitFor(t, "the event after the restart", func() bool { return len(r.requests()) == 1 })
	if ev := verify(t, r.requests()[0]); ev.ID != EventID(e) {
		t.Errorf("got event %s, want %s", ev.ID, EventID(e))
	}
}

// TestTwoDispatchers: two dispatchers on one store (two handles on its
// file, as two worker processes) never send one event twice within its
// lease, and together send all.
func TestTwoDispatchers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchback.db")
	st := openStore(t, path)
	const n = 30
	for i := range n {
		record(t, st, fmt.Sprintf("SM%d", i))
	}
	r := newReceiver(t)
	small := func(o *Options) { o.Batch = 4 }
	run(t, newDispatcher(t, st, r.URL, small))
	run(t, newDispatcher(t, openStore(t, path), r.URL, small))
	waitFor(t, "every event", func() bool { return len(r.requests()) >= n })
	time.Sleep(30 * time.Millisecond)
	seen := map[string]int{}
	for _, req := range r.requests() {
		seen[req.header.Get("webhook-id")]++
	}
	if len(seen) != n {
		t.Errorf("receiver got %d distinct events, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("event %s sent %d times", id, k)
		}
	}
}

// TestShutdownReleases: events claimed but not tried when the dispatcher
// stops are due again at once, not at the end of the lease.
func TestShutdownReleases(t *testing.T) {
	st := openStore(t, ":memory:")
	for i := range 3 {
		record(t, st, fmt.Sprintf("SM%d", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The receiver stops the dispatcher during the first request.
	stop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leave
		cancel()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(stop.Close)
	d := newDispatcher(t, st, stop.URL, func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour })
	if n, err := d.Deliver(ctx); n != 3 || err != nil {
		t.Fatalf("Deliver = %d, %v; want 3 claimed", n, err)
	}
	due, err := st.ClaimOutbox(context.Background(), time.Now(), time.Minute, 10)
	if err != nil || len(due) != 3 {
		t.Errorf("claim after shutdown = %d events, %v; want all 3", len(due), err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"relative URL", Options{URL: "/events", Secret: secret}, "URL"},
		{"no secret", Options{URL: "http://127.0.0.1/events"}, "secret"},
		{"short lease", Options{URL: "http://127.0.0.1/events", Secret: secret, Lease: time.Second}, "lease"},
	} {
		if _, err := New(nil, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestTypeOf(t *testing.T) {
	for s, want := range map[store.EventStatus]Type{
		store.EventAccepted: TypeAccepted, store.EventDelivered: TypeStatus, store.EventFailed: TypeStatus,
		store.EventFallback: TypeFallback, store.EventSkipped: TypeSkipped, store.EventConverted: TypeConverted,
		store.EventReply: TypeReply, store.EventBroadcastPaused: TypeBroadcastPaused, "deferred": "message.deferred",
	} {
		if got := TypeOf(s); got != want {
			t.Errorf("TypeOf(%s) = %s, want %s", s, got, want)
		}
	}
}
