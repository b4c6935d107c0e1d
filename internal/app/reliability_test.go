package app_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/bench"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// The reliability tests take tens of seconds each: they run when
// SWITCHBACK_RELIABILITY=1 (as .ci/run sets it), and report their counts
// with t.Log (go test -v shows them).
func reliability(t *testing.T) {
	t.Helper()
	if os.Getenv("SWITCHBACK_RELIABILITY") != "1" {
		t.Skip("the reliability suite runs with SWITCHBACK_RELIABILITY=1, as .ci/run sets it after go test ./...")
	}
}

// helperWorkerEnv marks the test binary run as a worker subprocess.
const helperWorkerEnv = "SWITCHBACK_TEST_WORKER_PROCESS"

// TestHelperWorkerProcess is not a test: it is the body of the worker
// subprocess that TestWorkerCrash starts and kills.
func TestHelperWorkerProcess(t *testing.T) {
	if os.Getenv(helperWorkerEnv) != "1" {
		t.Skip("helper process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := apptest.RunWorker(ctx, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// workerProcess is a worker subprocess.
type workerProcess struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// startWorker starts a worker subprocess for s.
func startWorker(t *testing.T, s *apptest.Stack) *workerProcess {
	t.Helper()
	w := &workerProcess{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$")}
	w.cmd.Env = append(append(os.Environ(), s.WorkerEnv()...), helperWorkerEnv+"=1")
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.kill(t) })
	return w
}

// kill kills the worker at once (SIGKILL: no graceful stop) and waits for
// it.
func (w *workerProcess) kill(t *testing.T) {
	if w.cmd.ProcessState != nil {
		return
	}
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
	if strings.Contains(w.out.String(), "worker:") {
		t.Errorf("worker process: %s", w.out.String())
	}
}

// otpJourney is the otp fallback chain without its verify step (so that
// it ends on delivery), with within as the WhatsApp attempt's wait.
func otpJourney(t *testing.T, within time.Duration) journeys.Journey {
	t.Helper()
	j, err := bench.OTPJourney(within)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// started is a journey a test started, and what it must end as.
type started struct {
	id  string
	run interface {
		Get(context.Context, any) error
	}
	outcome workflows.Outcome
	channel channels.Channel
	stack   *apptest.Stack
}

// startJourney starts j to to, expecting it to end as outcome on channel.
func startJourney(t *testing.T, s *apptest.Stack, j journeys.Journey, to string, outcome workflows.Outcome, channel channels.Channel) started {
	t.Helper()
	run, _, err := journeys.Start(context.Background(), s.Client, journeys.StartOptions{
		Journey: j, To: to, Vars: map[string]string{"code": "493817"}, ContactKey: []byte("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return started{id: run.GetID(), run: run, outcome: outcome, channel: channel, stack: s}
}

// awaitAll waits for every journey and returns how many ended otherwise
// than expected (lost); each such is reported.
func awaitAll(t *testing.T, js []started, timeout time.Duration) (lost int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Go(func() {
			var res workflows.Result
			err := j.run.Get(ctx, &res)
			if err == nil && res.Outcome == j.outcome && res.Channel == j.channel {
				return
			}
			if err == nil && res.Outcome == j.outcome && j.channel == channels.WhatsApp && res.Channel == channels.SMS && sendOutlivedWithin(j) {
				// Injected 500s and their retries took the WhatsApp send past
				// its within (which counts send retries): falling back is right.
				t.Logf("journey %s: the WhatsApp send outlived its within; delivered on sms", j.id)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			lost++
			t.Errorf("journey %s: ended %+v (err %v), want %s on %q; timeline:\n%s", j.id, res, err, j.outcome, j.channel, explain(j))
		})
	}
	wg.Wait()
	return lost
}

// sendOutlivedWithin reports whether j's first attempt fell back because
// its send's retries (after injected 500s) used up the attempt's within:
// either the send was accepted so late that the fallback for lack of a
// status came at once, or it was never accepted and failed retryably when
// its next backoff would have passed the within (with 1s, 2s, 4s and 8s
// of backoff, four 500s in a row do that to a 15s within).
func sendOutlivedWithin(j started) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tl, err := journeys.GetTimeline(ctx, j.stack.Client, j.id)
	if err != nil {
		return false
	}
	var sent time.Time
	for _, ev := range tl.Events {
		switch {
		case ev.Attempt != 1:
		case ev.Kind == workflows.EventSent:
			sent = ev.Time
		case ev.Kind == workflows.EventSendFailed && sent.IsZero():
			return ev.ReasonClass == store.ClassSendError
		case ev.Kind == workflows.EventFallback && !sent.IsZero():
			return ev.ReasonClass == store.ClassTimeout && ev.Time.Sub(sent) < time.Second
		}
	}
	return false
}

// explain returns j's timeline, an entry a line, for a journey that ended
// otherwise than expected.
func explain(j started) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tl, err := journeys.GetTimeline(ctx, j.stack.Client, j.id)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range tl.Events {
		fmt.Fprintf(&b, "\t%s %s attempt=%d %s %s/%s %s %s: %s\n", e.Time.Format("15:04:05.000"), e.Kind, e.Attempt,
			e.Channel, e.Provider, e.MessageID, e.Status, e.Code, e.Reason)
	}
	return b.String()
}

// waitSent waits until the sandbox has accepted n sends in all.
func waitSent(t *testing.T, s *apptest.Stack, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); len(s.Sandbox.Sent()) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox accepted %d sends, want %d", len(s.Sandbox.Sent()), n)
		}
	}
}

// duplicates reports the journey attempts sent more than once.
func duplicates(t *testing.T, s *apptest.Stack) int {
	t.Helper()
	d := apptest.Duplicates(s.Sandbox.Sent())
	for k, n := range d {
		t.Errorf("attempt %s was sent %d times", k, n)
	}
	return len(d)
}

// The worker process is killed (SIGKILL) after its sends were accepted
// and before their statuses arrive, while other journeys wait for a status
// that never comes; a new worker process finishes every journey, and no
// attempt is sent twice.
// burstSMS raises the SMS rate above one sender number's default (1/s):
// these tests fall back to SMS for many journeys at once, and measure
// recovery, not Twilio's cap (TestWorkersSetTaskQueueRates checks that).
func burstSMS(c *config.Config) { *c = c.WithSettings(map[string]string{"SWITCHBACK_RATE_SMS": "50"}) }

func TestWorkerCrash(t *testing.T) {
	reliability(t)
	s := apptest.StartWith(t, apptest.Options{NoWorkers: true, StatusDelay: 1500 * time.Millisecond, Configure: burstSMS})
	w1 := startWorker(t, s)
	otp := otpJourney(t, 30*time.Second)
	short := otpJourney(t, 4*time.Second)
	const n = 10
	var js []started
	for range n {
		js = append(js, startJourney(t, s, otp, sandbox.DefaultRecipient, workflows.OutcomeDelivered, channels.WhatsApp))
		js = append(js, startJourney(t, s, short, sandbox.WhatsAppSilent, workflows.OutcomeDelivered, channels.SMS))
	}
	waitSent(t, s, 2*n, 30*time.Second)
	time.Sleep(200 * time.Millisecond) // let the send activities report back
	w1.kill(t)
	killed := time.Now()
	// Statuses reach Temporal with no worker; the silent journeys' waits end
	// with no worker.
	time.Sleep(5 * time.Second)
	startWorker(t, s)
	lost := awaitAll(t, js, 90*time.Second)
	dups := duplicates(t, s)
	t.Logf("worker crash: journeys=%d workers_killed=1 sends=%d lost=%d duplicates=%d recovered_in=%s",
		len(js), len(s.Sandbox.Sent()), lost, dups, time.Since(killed).Round(time.Millisecond))
}

// While Temporal cannot be reached from the webhook server, callbacks are
// answered 503 and never 200; the sandbox retries them, and once Temporal
// is back every journey completes.
func TestTemporalUnavailableWhileWebhooksArrive(t *testing.T) {
	reliability(t)
	answers := apptest.NewAnswers(1, 0)
	s := apptest.StartWith(t, apptest.Options{
		StatusDelay:   time.Second,
		WebhookProxy:  true,
		SignalTimeout: time.Second,
		Webhooks:      answers.Wrap,
		Sandbox:       func(c *sandbox.Config) { c.CallbackAttempts = 12 },
	})
	otp := otpJourney(t, 30*time.Second)
	const n = 5
	var js []started
	for range n {
		js = append(js, startJourney(t, s, otp, sandbox.DefaultRecipient, workflows.OutcomeDelivered, channels.WhatsApp))
	}
	waitSent(t, s, n, 30*time.Second)
	s.Proxy.SetDown(true)
	down := time.Now()
	time.Sleep(4 * time.Second)
	s.Proxy.SetDown(false)
	up := time.Now()
	lost := awaitAll(t, js, 60*time.Second)

	var unavailable, recordedWhileDown, ok int
	for _, a := range answers.All() {
		switch {
		case a.Status == http.StatusServiceUnavailable:
			unavailable++
		case a.Status == http.StatusOK && a.Time.After(down) && a.Time.Before(up):
			// Only a status the journey does not wait for may be taken
			// without Temporal: into the store.
			recordedWhileDown++
			checkRecordedWithoutTemporal(t, s, a.Body)
		case a.Status == http.StatusOK:
			ok++
		}
	}
	if unavailable < n {
		t.Errorf("%d callbacks answered 503 while Temporal was down, want at least %d", unavailable, n)
	}
	t.Logf("temporal unavailable %s: journeys=%d callbacks=%d answered_503=%d answered_200_while_down=%d (recorded in the store) answered_200=%d lost=%d duplicates=%d",
		up.Sub(down).Round(time.Millisecond), n, len(answers.All()), unavailable, recordedWhileDown, ok, lost, duplicates(t, s))
}

// checkRecordedWithoutTemporal fails t unless every status of a WhatsApp
// callback answered 200 while Temporal was unreachable is one the webhooks
// record instead of signalling (sent, before the awaited delivered) and is
// in the store's event log.
func checkRecordedWithoutTemporal(t *testing.T, s *apptest.Stack, body []byte) {
	t.Helper()
	n, err := whatsapp.ParseNotification(body)
	if err != nil {
		t.Errorf("a callback answered 200 while Temporal was unreachable: %v", err)
		return
	}
	for _, ev := range n.StatusEvents() {
		u := ev.Update
		if u.Status != channels.StatusSent {
			t.Errorf("status %s of %s answered 200 while Temporal was unreachable", u.Status, u.MessageID)
			continue
		}
		evs, err := s.Store.Events(context.Background(), store.EventFilter{WorkflowID: ev.Correlation.WorkflowID})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(evs, func(e store.MessageEvent) bool {
			return e.MessageID == u.MessageID && e.Status == store.EventSent
		}) {
			t.Errorf("status sent of %s answered 200 while Temporal was unreachable, and not in the event log", u.MessageID)
		}
	}
}

// A provider outage: sends retry with backoff through 500s and 429s and
// then succeed, or, when the outage outlasts the attempt's within, the
// journey falls back to the next channel.
func TestProviderOutage(t *testing.T) {
	reliability(t)
	faults := apptest.NewFaults()
	s := apptest.StartWith(t, apptest.Options{Providers: faults.Wrap})
	otp := otpJourney(t, 30*time.Second)
	short := otpJourney(t, 3*time.Second)

	faults.Outage(sandbox.ProviderWhatsApp, http.StatusInternalServerError, 0, 2500*time.Millisecond)
	// Longer on Twilio: its journey reaches SMS only once WhatsApp is back.
	faults.Outage(sandbox.ProviderTwilio, http.StatusTooManyRequests, 2*time.Second, 6*time.Second)
	js := []started{
		// WhatsApp 500s for 2.5s: retried, then delivered on WhatsApp.
		startJourney(t, s, otp, sandbox.DefaultRecipient, workflows.OutcomeDelivered, channels.WhatsApp),
		// WhatsApp refuses (131047) once it answers; Twilio 429s until 6s:
		// retried, then delivered on SMS.
		startJourney(t, s, otp, sandbox.WhatsAppWindowClosed, workflows.OutcomeDelivered, channels.SMS),
	}
	lost := awaitAll(t, js, 60*time.Second)

	// WhatsApp down longer than the attempt's 3s: fall back to SMS.
	faults.Outage(sandbox.ProviderWhatsApp, http.StatusServiceUnavailable, 0, 30*time.Second)
	fb := startJourney(t, s, short, sandbox.DefaultRecipient, workflows.OutcomeDelivered, channels.SMS)
	lost += awaitAll(t, []started{fb}, 60*time.Second)
	tl := timeline(t, s, fb.id)
	if got := summary(tl); !strings.Contains(got, "send_failed:whatsapp") || !strings.Contains(got, "fallback:whatsapp") {
		t.Errorf("timeline %q lacks the failed WhatsApp send and the fallback", got)
	}
	// The load test forgives exactly this when its random 500s line up.
	if fb.channel = channels.WhatsApp; !sendOutlivedWithin(fb) {
		t.Errorf("a WhatsApp send failing for the whole within is not recognised as outliving it:\n%s", explain(fb))
	}

	injected := faults.Injected()
	if injected[sandbox.ProviderWhatsApp] < 2 || injected[sandbox.ProviderTwilio] < 1 {
		t.Errorf("faults injected %v, want at least 2 on WhatsApp and 1 on Twilio", injected)
	}
	logRetryAfter(t, faults.Requests())
	t.Logf("provider outage: journeys=%d faults_injected=%v sends=%d lost=%d duplicates=%d",
		len(js)+1, injected, len(s.Sandbox.Sent()), lost, duplicates(t, s))
}

// logRetryAfter logs the gaps between the Twilio sends that met a 429 with
// Retry-After: 2, to show whether the client honoured it.
func logRetryAfter(t *testing.T, reqs []apptest.Request) {
	t.Helper()
	var gaps []string
	var last time.Time
	for _, r := range reqs {
		if r.Provider != sandbox.ProviderTwilio {
			continue
		}
		if !last.IsZero() {
			gaps = append(gaps, r.Time.Sub(last).Round(10*time.Millisecond).String())
		}
		last = r.Time
		if r.Status == 0 {
			break
		}
	}
	t.Logf("twilio retries after 429 with Retry-After 2s came after %s", strings.Join(gaps, ", "))
}

func timeline(t *testing.T, s *apptest.Stack, id string) workflows.Timeline {
	t.Helper()
	tl, err := journeys.GetTimeline(context.Background(), s.Client, id)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// loadOutcome is a magic recipient and how an otpJourney (15s
// WhatsApp wait, LateDelay 25s) to it ends.
type loadOutcome struct {
	to      string
	outcome workflows.Outcome
	channel channels.Channel
}

func loadOutcomes() []loadOutcome {
	return []loadOutcome{
		{sandbox.DefaultRecipient, workflows.OutcomeDelivered, channels.WhatsApp},
		{sandbox.WhatsAppUndeliverable, workflows.OutcomeDelivered, channels.SMS},
		{sandbox.WhatsAppSilent, workflows.OutcomeDelivered, channels.SMS},
		{sandbox.WhatsAppWindowClosed, workflows.OutcomeDelivered, channels.SMS},
		{sandbox.Unreachable, workflows.OutcomeFailed, ""},
		{sandbox.WhatsAppRateLimited, workflows.OutcomeDelivered, channels.WhatsApp},
		{sandbox.SMSInvalid, workflows.OutcomeFailed, ""},
		{sandbox.WhatsAppDeliveredLate, workflows.OutcomeDelivered, channels.SMS},
	}
}

// 200 concurrent journeys to recipients drawn at random (seeded) from the
// sandbox's outcomes, with seeded random 500s on sends and 503s on
// callbacks, all end in the terminal state their recipient decides; no
// attempt is sent twice.
func TestLoadRandomOutcomes(t *testing.T) {
	reliability(t)
	const seed, n = 6, 200
	faults := apptest.NewFaults()
	faults.Random(seed, 0.1)
	answers := apptest.NewAnswers(seed, 0.1)
	s := apptest.StartWith(t, apptest.Options{
		Configure: burstSMS,
		Providers: faults.Wrap,
		Webhooks:  answers.Wrap,
		Sandbox: func(c *sandbox.Config) {
			c.LateDelay = 25 * time.Second
			c.CallbackAttempts = 12
		},
	})
	j := otpJourney(t, 15*time.Second)
	rnd := rand.New(rand.NewPCG(seed, seed))
	outcomes := loadOutcomes()
	js := make([]started, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		o := outcomes[rnd.IntN(len(outcomes))]
		wg.Go(func() {
			st := startJourney(t, s, j, o.to, o.outcome, o.channel)
			mu.Lock()
			js = append(js, st)
			mu.Unlock()
		})
	}
	wg.Wait()
	lost := awaitAll(t, js, 3*time.Minute)
	log := checkEventLogs(t, s, js)
	var callbacks, injected503 int
	for _, a := range answers.All() {
		callbacks++
		if a.Injected {
			injected503++
		}
	}
	t.Logf("load: seed=%d journeys=%d sends=%d callbacks=%d faults_injected=send_500:%v callback_503:%d lost=%d duplicates=%d",
		seed, n, len(s.Sandbox.Sent()), callbacks, faults.Injected(), injected503, lost, duplicates(t, s))
	t.Logf("load event log: journeys=%d store_events=%d events_checked=%d (statuses=%d fallbacks=%d accepted=%d send_failed=%d skipped=%d) recorded_by_webhooks=%d lost=%d duplicates=%d unexplained=%d",
		n, log.stored, log.checked(), log.statuses, log.fallbacks, log.accepted, log.sendFailed, log.skipped, log.recorded, log.lost, log.duplicates, log.unexplained)
}

// eventLogCounts is what checkEventLog found: the store events it matched
// with timeline entries, by kind, and the discrepancies.
type eventLogCounts struct {
	stored                                             int // store events of the journeys
	statuses, fallbacks, accepted, sendFailed, skipped int // timeline entries matched with one store event
	lost, duplicates, unexplained                      int
	// recorded counts statuses the webhooks recorded, not signalled.
	recorded int
}

func (c eventLogCounts) checked() int {
	return c.statuses + c.fallbacks + c.accepted + c.sendFailed + c.skipped
}

func (c *eventLogCounts) add(o eventLogCounts) {
	c.stored += o.stored
	c.statuses += o.statuses
	c.fallbacks += o.fallbacks
	c.accepted += o.accepted
	c.sendFailed += o.sendFailed
	c.skipped += o.skipped
	c.lost += o.lost
	c.duplicates += o.duplicates
	c.unexplained += o.unexplained
	c.recorded += o.recorded
}

// checkEventLogs checks the message event log of every journey against its
// timeline (checkEventLog), a few journeys at a time.
func checkEventLogs(t *testing.T, s *apptest.Stack, js []started) eventLogCounts {
	t.Helper()
	var mu sync.Mutex
	var total eventLogCounts
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c := checkEventLog(t, s, j.id)
			mu.Lock()
			total.add(c)
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}

// eventKey is what the store deduplicates message events on.
type eventKey struct {
	provider, messageID string
	status              store.EventStatus
}

func (k eventKey) String() string { return fmt.Sprintf("%s/%s/%s", k.provider, k.messageID, k.status) }

// checkEventLog checks the store's message event log of the journey id
// against its timeline: every status the journey took (not ignored), every
// accepted send, refused send, skip and fallback has exactly one store
// event, with the timeline's attempt and channel; and every store event of
// the journey is one of those. Each discrepancy is reported.
func checkEventLog(t *testing.T, s *apptest.Stack, id string) eventLogCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tl, err := journeys.GetTimeline(ctx, s.Client, id)
	if err != nil {
		t.Error(err)
		return eventLogCounts{lost: 1}
	}
	evs, err := s.Store.Events(ctx, store.EventFilter{WorkflowID: id})
	if err != nil {
		t.Errorf("events of %s: %v", id, err)
		return eventLogCounts{lost: 1}
	}
	c := eventLogCounts{stored: len(evs)}
	byKey := map[eventKey][]int{}
	for i, e := range evs {
		k := eventKey{e.Provider, e.MessageID, e.Status}
		byKey[k] = append(byKey[k], i)
	}
	for k, is := range byKey {
		if len(is) > 1 {
			c.duplicates += len(is) - 1
			t.Errorf("journey %s: %d store events %s", id, len(is), k)
		}
	}
	explained := make([]bool, len(evs))
	named := map[[2]string]bool{} // messages some timeline entry names
	// match finds the one store event with key k, checks its attempt and
	// channel against the timeline entry e, and reports whether it found it.
	match := func(e journeys.Event, k eventKey) bool {
		is := byKey[k]
		if len(is) == 0 {
			return false
		}
		got := evs[is[0]]
		if got.Attempt != e.Attempt || got.Channel != e.Channel {
			t.Errorf("journey %s: store event %s has attempt %d on %q, the timeline's %s entry attempt %d on %q",
				id, k, got.Attempt, got.Channel, e.Kind, e.Attempt, e.Channel)
		}
		for _, i := range is {
			explained[i] = true
		}
		return true
	}
	lost := func(e journeys.Event, k eventKey) {
		c.lost++
		t.Errorf("journey %s: timeline %s entry (attempt %d, %s) has no store event %s", id, e.Kind, e.Attempt, e.Reason, k)
	}
	local := func(attempt int, status store.EventStatus) eventKey {
		return eventKey{store.LocalProvider, store.LocalMessageID(id, attempt), status}
	}
	for _, e := range tl.Events {
		if e.MessageID != "" {
			named[[2]string{e.Provider, e.MessageID}] = true
		}
		switch e.Kind {
		case journeys.EventStatus:
			if e.ReasonClass == store.ClassIgnored {
				continue
			}
			k := eventKey{e.Provider, e.MessageID, store.EventStatus(e.Status)}
			if !match(e, k) {
				lost(e, k)
				continue
			}
			c.statuses++
		case journeys.EventSent:
			k := eventKey{e.Provider, e.MessageID, store.EventAccepted}
			if !match(e, k) {
				lost(e, k)
				continue
			}
			c.accepted++
		case journeys.EventSendFailed:
			if e.ReasonClass == store.ClassUnknownOutcome {
				continue // not refused: the journey waits for a status
			}
			k := local(e.Attempt, store.EventFailed)
			if !match(e, k) {
				lost(e, k)
				continue
			}
			c.sendFailed++
		case journeys.EventSkipped:
			k := local(e.Attempt, store.EventSkipped)
			if !match(e, k) {
				lost(e, k)
				continue
			}
			c.skipped++
		case journeys.EventFallback:
			var is []int
			for i, ev := range evs {
				if ev.Status == store.EventFallback && ev.Attempt == e.Attempt {
					is = append(is, i)
				}
			}
			switch len(is) {
			case 0:
				lost(e, local(e.Attempt, store.EventFallback))
				continue
			case 1:
			default:
				c.duplicates += len(is) - 1
				t.Errorf("journey %s: %d fallback store events for attempt %d", id, len(is), e.Attempt)
			}
			for _, i := range is {
				explained[i] = true
			}
			c.fallbacks++
		}
	}
	for i, e := range evs {
		if explained[i] {
			continue
		}
		switch {
		case e.Status == store.EventAccepted && named[[2]string{e.Provider, e.MessageID}]:
			// The message of a send whose outcome was unknown, adopted
			// through its status.
			continue
		case e.Status == store.EventConverted && tl.Outcome == journeys.OutcomeConverted:
			continue
		case channels.Status(e.Status).Valid() && e.Status != store.EventFailed && named[[2]string{e.Provider, e.MessageID}]:
			// A status of one of its messages that the journey did not
			// wait for: the webhook recorded it instead of signalling it.
			c.recorded++
			continue
		}
		c.unexplained++
		t.Errorf("journey %s: store event %s (attempt %d on %q at %s) is not in the timeline",
			id, eventKey{e.Provider, e.MessageID, e.Status}, e.Attempt, e.Channel, e.At.Format(time.RFC3339Nano))
	}
	return c
}
