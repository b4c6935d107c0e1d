package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// Result is one measured figure, printed as one line: its name, then
// key=value pairs in order, e.g. "journey n=200 per_s=24.1 p50_ms=812".
type Result struct {
	Name   string
	Fields []Field
}

// Field is one key=value pair of a Result.
type Field struct {
	Key   string
	Value float64
}

// String formats r as one line a script can read.
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	for _, f := range r.Fields {
		b.WriteString(" " + f.Key + "=" + strconv.FormatFloat(f.Value, 'f', -1, 64))
	}
	return b.String()
}

// Get returns the value of key, or 0.
func (r Result) Get(key string) float64 {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return 0
}

// Stats summarises n operations run concurrently.
type Stats struct {
	N         int
	Errors    int           // operations that failed or ended in an unexpected outcome
	Elapsed   time.Duration // from the first start to the last end
	Latencies []time.Duration
	// FirstError describes the first failure, if any.
	FirstError string
}

// PerSecond returns completed operations per second of Elapsed.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.N-s.Errors) / s.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of the latencies.
func (s Stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	i := int(float64(len(l))*p/100+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// Result returns s as a Result named name.
func (s Stats) Result(name string) Result {
	return Result{Name: name, Fields: []Field{
		{"n", float64(s.N)},
		{"errors", float64(s.Errors)},
		{"per_s", round(s.PerSecond())},
		{"p50_ms", ms(s.Percentile(50))},
		{"p99_ms", ms(s.Percentile(99))},
	}}
}

// merge adds o's operations to s, as if run one after the other.
func (s Stats) merge(o Stats) Stats {
	s.N += o.N
	s.Errors += o.Errors
	s.Elapsed += o.Elapsed
	s.Latencies = append(s.Latencies, o.Latencies...)
	if s.FirstError == "" {
		s.FirstError = o.FirstError
	}
	return s
}

func round(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

// concurrently runs op(i) for i in [0, n) with at most par in flight (all
// at once when par ≤ 0), and times each.
func concurrently(n, par int, op func(i int) error) Stats {
	if par <= 0 {
		par = n
	}
	st := Stats{N: n, Latencies: make([]time.Duration, n)}
	errs := make([]error, n)
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t := time.Now()
			errs[i] = op(i)
			st.Latencies[i] = time.Since(t)
		})
	}
	wg.Wait()
	st.Elapsed = time.Since(begin)
	for _, err := range errs {
		if err != nil {
			st.Errors++
			if st.FirstError == "" {
				st.FirstError = err.Error()
			}
		}
	}
	return st
}

// Kind is what one throughput run starts.
type Kind int

// Kinds of throughput runs.
const (
	KindJourney  Kind = iota // the built-in otp journey
	KindBaseline             // the Baseline workflow
)

func (k Kind) String() string {
	if k == KindJourney {
		return "journey"
	}
	return "baseline"
}

// OTPJourneyName is the name of OTPJourney's journey.
const OTPJourneyName = "bench_otp"

// findJourney finds OTPJourney, with the WhatsApp attempt's wait of the
// throughput runs, or a built-in journey, by name: the journeys the
// benchmark's broadcasts start.
func findJourney(name string) (journeys.Journey, error) {
	if name == OTPJourneyName {
		return OTPJourney(30 * time.Second)
	}
	return journeys.Builtin(name, app.Channels())
}

// OTPJourney returns the journey of the throughput runs: the built-in
// otp's fallback chain (WhatsApp template, then SMS) without its verify
// step, so that it ends on delivery as the baseline does, with within as
// the WhatsApp attempt's wait. The built-in otp waits for the customer's
// code after delivery.
func OTPJourney(within time.Duration) (journeys.Journey, error) {
	src := fmt.Sprintf(`
name: %s
purpose: authentication
params:
  - {name: code}
expire: 10m
steps:
  - send:
      id: code
      attempts:
        - channel: whatsapp
          template: {name: otp_code, language: en_US, body: ["{{.code}}"], button_url: ["{{.code}}"]}
          await: delivered
          within: %s
        - channel: sms
          text: "Your verification code is {{.code}}. It expires in 10 minutes."
          await: delivered
          within: 60s
`, OTPJourneyName, within)
	j, err := journeys.Parse(OTPJourneyName+".yaml", []byte(src), app.Channels())
	if err != nil {
		return journeys.Journey{}, fmt.Errorf("bench: %w", err)
	}
	return j, nil
}

// InFlight is how many journeys, or baseline workflows, a throughput run
// keeps running at once: enough to keep the server busy, few enough that
// none waits out a timeout and retries. All 200 at once, a run of either
// side now and then took a minute instead of ten seconds.
const InFlight = 50

// Run runs n journeys (OTPJourney) or baseline workflows to recipient,
// InFlight at a time, and waits for all of them. Each must end delivered
// on want; any other end counts as an error.
func (e *Env) Run(ctx context.Context, k Kind, n int, to string, want channels.Channel) (Stats, error) {
	otp, err := OTPJourney(30 * time.Second)
	if err != nil {
		return Stats{}, err
	}
	return concurrently(n, InFlight, func(int) error {
		if k == KindJourney {
			return runJourney(ctx, e.Client, e.otpStart(otp, to, ""), want)
		}
		return runBaseline(ctx, e.Client, client.StartWorkflowOptions{ID: "baseline-" + rand.Text()[:16]}, to, want)
	}), nil
}

func runJourney(ctx context.Context, c client.Client, opts journeys.StartOptions, want channels.Channel) error {
	run, _, err := journeys.Start(ctx, c, opts)
	if err != nil {
		return err
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("journey %s: %w", run.GetID(), err)
	}
	if res.Outcome != workflows.OutcomeDelivered || res.Channel != want {
		return fmt.Errorf("journey %s ended %s on %q, want delivered on %s", run.GetID(), res.Outcome, res.Channel, want)
	}
	return nil
}

// otpStart returns the options that start the OTP journey otp to
// recipient with the bench's code, under id (empty: a generated one).
func (e *Env) otpStart(otp journeys.Journey, to, id string) journeys.StartOptions {
	return journeys.StartOptions{Journey: otp, To: to, ID: id, Vars: map[string]string{"code": benchCode}, ContactKey: e.Config.ContactKeyOrDefault()}
}

// benchCode is the code the bench's OTP journeys and baseline workflows
// send.
const benchCode = "493817"

// runBaseline runs a baseline workflow to recipient with opts (its task
// queue set here) and checks that it delivered on want.
func runBaseline(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, to string, want channels.Channel) error {
	in := BaselineInput{To: to, Code: benchCode, Channels: []channels.Channel{channels.WhatsApp, channels.SMS}, Within: 30 * time.Second}
	opts.TaskQueue = BaselineTaskQueue
	run, err := c.ExecuteWorkflow(ctx, opts, BaselineWorkflowName, in)
	if err != nil {
		return fmt.Errorf("start baseline: %w", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		return fmt.Errorf("baseline %s: %w", run.GetID(), err)
	}
	if got != string(want) {
		return fmt.Errorf("baseline %s ended %q, want %s", run.GetID(), got, want)
	}
	return nil
}

// Compare runs n journeys and n baseline workflows to recipient (Run),
// after a short warm-up, in two rounds of alternating order so that
// neither side profits from going second, and returns the Stats of each.
// A run ends when its workflows have ended and the server's visibility
// has recorded them (settled): the work a side leaves behind is its own,
// not the next run's.
func (e *Env) Compare(ctx context.Context, n int, to string, want channels.Channel) (journey, baseline Stats, err error) {
	return e.alternate(ctx, n, func(k Kind, n int) (Stats, error) { return e.Run(ctx, k, n, to, want) })
}

// CompareLatency is Compare with SendLatency's runs: n journeys and n
// baseline workflows, each side started rate a second.
func (e *Env) CompareLatency(ctx context.Context, rate float64, n int, to string, want channels.Channel) (journey, baseline Stats, err error) {
	return e.alternate(ctx, n, func(k Kind, n int) (Stats, error) { return e.SendLatency(ctx, k, rate, n, to, want) })
}

// alternate runs a warm-up of each kind, then n of each in two rounds of
// alternating order, each run settled, and returns each kind's Stats.
func (e *Env) alternate(ctx context.Context, n int, run func(k Kind, n int) (Stats, error)) (journey, baseline Stats, err error) {
	warm := min(n, 10)
	for _, k := range []Kind{KindJourney, KindBaseline} {
		if _, err := e.settled(ctx, k, warm, run); err != nil {
			return Stats{}, Stats{}, err
		}
	}
	halves := [2]int{n / 2, n - n/2}
	for round, order := range [][2]Kind{{KindJourney, KindBaseline}, {KindBaseline, KindJourney}} {
		for _, k := range order {
			st, err := e.settled(ctx, k, halves[round], run)
			if err != nil {
				return Stats{}, Stats{}, err
			}
			if k == KindJourney {
				journey = journey.merge(st)
			} else {
				baseline = baseline.merge(st)
			}
		}
	}
	return journey, baseline, nil
}

// settled is run(k, n), ended when visibility has recorded the run's
// workflows as closed: its Elapsed includes that wait.
func (e *Env) settled(ctx context.Context, k Kind, n int, run func(k Kind, n int) (Stats, error)) (Stats, error) {
	before, err := e.closed(ctx)
	if err != nil {
		return Stats{}, err
	}
	began := time.Now()
	st, err := run(k, n)
	if err != nil {
		return Stats{}, err
	}
	if err := e.awaitClosed(ctx, before+int64(n)); err != nil {
		return Stats{}, fmt.Errorf("%s run: %w", k, err)
	}
	st.Elapsed = time.Since(began)
	return st, nil
}

// settleTimeout bounds the wait for visibility to record a run.
const settleTimeout = 2 * time.Minute

// closed counts the namespace's closed workflows, as visibility has them.
func (e *Env) closed(ctx context.Context) (int64, error) {
	resp, err := e.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus != 'Running'"})
	if err != nil {
		return 0, fmt.Errorf("bench: count closed workflows: %w", err)
	}
	return resp.GetCount(), nil
}

// awaitClosed waits until visibility counts at least want closed workflows.
func (e *Env) awaitClosed(ctx context.Context, want int64) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for {
		got, err := e.closed(ctx)
		if err != nil {
			return err
		}
		if got >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("visibility recorded %d closed workflows, want %d: %w", got, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ratio returns the Result comparing journey to baseline throughput, named
// name, e.g. "journey_vs_baseline ratio=R journeys_per_s=J baseline_per_s=B".
func Ratio(name string, journey, baseline Stats) Result {
	r := 0.0
	if b := baseline.PerSecond(); b > 0 {
		r = journey.PerSecond() / b
	}
	return Result{Name: name, Fields: []Field{
		{"ratio", round(r)},
		{"journeys_per_s", round(journey.PerSecond())},
		{"baseline_per_s", round(baseline.PerSecond())},
	}}
}

// Ingest measures status callbacks through the real HTTP handler: n signed
// WhatsApp "sent" statuses, par at a time, each for one of a few running
// sink workflows, then the same n statuses as bare SignalWorkflow calls.
func (e *Env) Ingest(ctx context.Context, n, par int) (webhook, signal Stats, err error) {
	const sinks = 16
	ids := make([]string, sinks)
	for i := range ids {
		run, err := e.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sink-" + rand.Text()[:16], TaskQueue: BaselineTaskQueue}, SinkWorkflowName)
		if err != nil {
			return Stats{}, Stats{}, fmt.Errorf("bench: start sink: %w", err)
		}
		ids[i] = run.GetID()
	}
	defer func() {
		for _, id := range ids {
			_ = e.Client.TerminateWorkflow(context.WithoutCancel(ctx), id, "", "benchmark done")
		}
	}()
	hc := &http.Client{Timeout: 30 * time.Second}
	url := e.WebhookURL("/webhooks/whatsapp")
	post := func(i int) error {
		body, err := statusBody(ids[i%sinks], e.SandboxConfig.PhoneNumberID)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(whatsapp.SignatureHeader, sandbox.WhatsAppSignature(e.SandboxConfig.AppSecret, body))
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("bench: post status: %w", err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bench: webhook answered %s: %s", resp.Status, msg)
		}
		return nil
	}
	send := func(i int) error {
		u := channels.StatusUpdate{Provider: whatsapp.Provider, MessageID: "wamid.bench" + rand.Text(), Status: channels.StatusSent, Attempt: 1}
		if err := e.Client.SignalWorkflow(ctx, ids[i%sinks], "", workflows.SignalStatus, u); err != nil {
			return fmt.Errorf("bench: signal: %w", err)
		}
		return nil
	}
	// Two rounds in alternating order: the sinks' histories grow as the
	// run goes on, and neither side should pay for that alone.
	halves := [2]int{n / 2, n - n/2}
	webhook = concurrently(halves[0], par, post)
	signal = concurrently(halves[0], par, send)
	signal = signal.merge(concurrently(halves[1], par, send))
	webhook = webhook.merge(concurrently(halves[1], par, post))
	return webhook, signal, nil
}

// statusBody returns a WhatsApp status notification, as Meta posts it, of
// a "sent" status for a new message of workflow id.
func statusBody(id, phoneNumberID string) ([]byte, error) {
	n := whatsapp.Notification{Object: whatsapp.ObjectWhatsAppBusinessAccount, Entry: []whatsapp.Entry{{
		ID: sandbox.DefaultWABAID,
		Changes: []whatsapp.Change{{Field: whatsapp.FieldMessages, Value: whatsapp.Value{
			MessagingProduct: "whatsapp",
			Metadata:         whatsapp.Metadata{DisplayPhoneNumber: sandbox.DefaultDisplayPhone, PhoneNumberID: phoneNumberID},
			Statuses: []whatsapp.MessageStatus{{
				ID: "wamid.bench" + rand.Text(), Status: "sent", Timestamp: strconv.FormatInt(time.Now().Unix(), 10),
				RecipientID:           "15551234567",
				BizOpaqueCallbackData: channels.Correlation{WorkflowID: id, Attempt: 1}.String(),
			}},
		}}},
	}}}
	body, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("bench: encode status: %w", err)
	}
	return body, nil
}

// History runs one journey and one baseline workflow to recipient and
// counts what each wrote to its history: the events, and the commands
// Temporal Cloud bills as actions (activities, local activities and other
// markers, timers, search-attribute upserts, signals received), so that a
// delivered OTP's cost is read beside the hand-written workflow's.
func (e *Env) History(ctx context.Context, to string, want channels.Channel) (Result, error) {
	otp, err := OTPJourney(30 * time.Second)
	if err != nil {
		return Result{}, err
	}
	jid, bid := "bench-history-"+rand.Text()[:12], "baseline-history-"+rand.Text()[:12]
	if err := runJourney(ctx, e.Client, e.otpStart(otp, to, jid), want); err != nil {
		return Result{}, err
	}
	if err := runBaseline(ctx, e.Client, client.StartWorkflowOptions{ID: bid}, to, want); err != nil {
		return Result{}, err
	}
	var fields []Field
	for _, w := range []struct{ prefix, id string }{{"journey", jid}, {"baseline", bid}} {
		c, err := e.countHistory(ctx, w.id)
		if err != nil {
			return Result{}, err
		}
		fields = append(fields, Field{w.prefix + "_events", float64(c.events)}, Field{w.prefix + "_actions", float64(c.actions())})
	}
	return Result{Name: "history_per_otp", Fields: fields}, nil
}

// historyCount counts a workflow's history events and its billed commands.
type historyCount struct {
	events, activities, markers, timers, upserts, signals int
}

// actions estimates the billed actions: the start, and each command and
// signal counted.
func (c historyCount) actions() int {
	return 1 + c.activities + c.markers + c.timers + c.upserts + c.signals
}

func (e *Env) countHistory(ctx context.Context, id string) (historyCount, error) {
	var c historyCount
	it := e.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return c, fmt.Errorf("history of %s: %w", id, err)
		}
		c.events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			c.activities++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			c.markers++
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			c.timers++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			c.upserts++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			c.signals++
		}
	}
	return c, nil
}
