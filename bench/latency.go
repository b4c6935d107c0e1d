package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/sandbox"
)

// SendLatency starts n journeys (OTPJourney) or baseline workflows to
// recipient, rate a second whether or not the earlier ones have ended (an
// open loop, as a backend's traffic is), runs each to its end, and returns
// their Stats, whose latencies are each workflow's time from its start
// call to its first send reaching the sandbox. Each must end delivered on
// want, and its first send must be a WhatsApp message (its callback data
// names the workflow). The baseline starts eagerly, as journeys do, so
// that the two differ only in what they do before that send.
func (e *Env) SendLatency(ctx context.Context, k Kind, rate float64, n int, to string, want channels.Channel) (Stats, error) {
	if rate <= 0 || n < 1 {
		return Stats{}, fmt.Errorf("bench: send latency needs a rate above 0 and at least one workflow, not %g and %d", rate, n)
	}
	otp, err := OTPJourney(30 * time.Second)
	if err != nil {
		return Stats{}, err
	}
	prefix := "latency-" + k.String() + "-" + rand.Text()[:12] + "-"
	ids, started, errs := make([]string, n), make([]time.Time, n), make([]error, n)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range n {
		if i > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return Stats{}, fmt.Errorf("bench: send latency: %w", ctx.Err())
			case <-tick.C:
			}
		}
		ids[i], started[i] = fmt.Sprintf("%s%05d", prefix, i), time.Now()
		wg.Go(func() {
			if k == KindJourney {
				errs[i] = runJourney(ctx, e.Client, e.otpStart(otp, to, ids[i]), want)
				return
			}
			errs[i] = runBaseline(ctx, e.Client, client.StartWorkflowOptions{ID: ids[i], EnableEagerStart: true}, to, want)
		})
	}
	wg.Wait()
	st := Stats{N: n, Elapsed: time.Since(begin)}
	first := firstSends(e.Sandbox.Sent())
	for i, id := range ids {
		at, ok := first[id]
		switch {
		case errs[i] != nil:
		case !ok:
			errs[i] = fmt.Errorf("%s %s: no WhatsApp message of it reached the sandbox", k, id)
		default:
			st.Latencies = append(st.Latencies, at.Sub(started[i]))
		}
		if errs[i] != nil {
			st.Errors++
			if st.FirstError == "" {
				st.FirstError = errs[i].Error()
			}
		}
	}
	return st, nil
}

// firstSends maps each workflow that sent a WhatsApp message to when its
// first one reached the sandbox.
func firstSends(sent []sandbox.SentMessage) map[string]time.Time {
	first := map[string]time.Time{}
	for _, m := range sent {
		c, ok := channels.ParseCorrelation(m.CallbackData)
		if !ok {
			continue
		}
		if at, seen := first[c.WorkflowID]; !seen || m.Time.Before(at) {
			first[c.WorkflowID] = m.Time
		}
	}
	return first
}

// LatencyRatio returns the Result comparing journey to baseline send
// latency, named name: the ratio of their 99th percentiles and each
// side's median and 99th percentile, e.g. "latency_vs_baseline
// ratio_p99=1.1 journey_p50_ms=40 journey_p99_ms=90 baseline_p50_ms=35
// baseline_p99_ms=82".
func LatencyRatio(name string, journey, baseline Stats) Result {
	r := 0.0
	if b := baseline.Percentile(99); b > 0 {
		r = float64(journey.Percentile(99)) / float64(b)
	}
	return Result{Name: name, Fields: []Field{
		{"ratio_p99", round(r)},
		{"journey_p50_ms", ms(journey.Percentile(50))},
		{"journey_p99_ms", ms(journey.Percentile(99))},
		{"baseline_p50_ms", ms(baseline.Percentile(50))},
		{"baseline_p99_ms", ms(baseline.Percentile(99))},
	}}
}
