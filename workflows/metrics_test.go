package workflows

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// acceptedSender answers a send with the result fakeSends gave it.
type acceptedSender struct{ res channels.SendResult }

func (s acceptedSender) Send(context.Context, channels.Message) (channels.SendResult, error) {
	return s.res, nil
}

// countersAfter runs in to its end with the fake providers, writes the
// events it notes to a message event log whose activities count the
// journey counters, and returns those counters, as
// "name{label=value,...}" → count.
func countersAfter(t *testing.T, in journeys.Input, fake *fakeSends, signals []signalAt, checks *fakeChecks) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	m, err := activities.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Messages: st, Metrics: m}

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	checks.register(env)
	Register(env, testOptions)
	// The fake decides the send; the activities record and count what a
	// provider accepted, as SendMessage does.
	env.RegisterActivityWithOptions(func(ctx context.Context, req activities.SendRequest) (channels.SendResult, error) {
		res, err := fake.send(ctx, req)
		if err != nil {
			return res, err
		}
		a := *acts
		a.Senders = map[channels.Channel]channels.Sender{req.Message.Channel: acceptedSender{res}}
		return a.SendMessage(ctx, req)
	}, activity.RegisterOptions{Name: activities.SendName})
	for _, s := range signals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStatus, s.update) }, s.after)
	}
	env.ExecuteWorkflow(journeys.WorkflowType, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var reqs []activities.EventRequest
	for _, e := range checks.events {
		reqs = append(reqs, activities.EventRequest{To: in.To, Event: e})
	}
	// Written twice, as a retried activity would: counted once.
	for range 2 {
		if err := acts.RecordEvents(ctx, reqs); err != nil {
			t.Fatal(err)
		}
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, f := range families {
		for _, c := range f.GetMetric() {
			var labels []string
			for _, l := range c.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[fmt.Sprintf("%s{%s}", f.GetName(), strings.Join(labels, ","))] += int64(c.GetCounter().GetValue())
		}
	}
	return got
}

// The journey notes in its event log every decision the journey counters
// count, with the labels they need.
func TestJourneyCounters(t *testing.T) {
	wa, sms := channels.WhatsApp, channels.SMS
	tests := []struct {
		name    string
		in      func(*testing.T) journeys.Input
		errs    map[channels.Channel][]error
		signals []signalAt
		checks  *fakeChecks
		want    map[string]int64
	}{
		{
			name:    "delivered on whatsapp",
			in:      fallbackInput,
			signals: []signalAt{{time.Second, status(wa, channels.StatusSent)}, {2 * time.Second, status(wa, channels.StatusDelivered)}},
			want: map[string]int64{
				"switchback_sends_total{channel=whatsapp,journey=otp,result=accepted,template=otp_code}":     1,
				"switchback_statuses_total{channel=whatsapp,journey=otp,status=sent,template=otp_code}":      1,
				"switchback_statuses_total{channel=whatsapp,journey=otp,status=delivered,template=otp_code}": 1,
			},
		},
		{
			name: "failed status falls back to sms",
			in:   fallbackInput,
			signals: []signalAt{
				{time.Second, status(wa, channels.StatusFailed)},
				{2 * time.Second, status(sms, channels.StatusDelivered)},
				// A duplicate is not counted again.
				{3 * time.Second, status(sms, channels.StatusDelivered)},
			},
			want: map[string]int64{
				"switchback_sends_total{channel=whatsapp,journey=otp,result=accepted,template=otp_code}":  1,
				"switchback_statuses_total{channel=whatsapp,journey=otp,status=failed,template=otp_code}": 1,
				"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=failed_status}":           1,
				"switchback_sends_total{channel=sms,journey=otp,result=accepted,template=none}":           1,
				"switchback_statuses_total{channel=sms,journey=otp,status=delivered,template=none}":       1,
			},
		},
		{
			name:    "refused send and silence",
			in:      fallbackInput,
			errs:    map[channels.Channel][]error{wa: {permanent("131026")}},
			signals: []signalAt{{time.Second, status(sms, channels.StatusSent)}},
			want: map[string]int64{
				"switchback_sends_total{channel=whatsapp,journey=otp,result=failed,template=otp_code}": 1,
				"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=rejected}":             1,
				"switchback_sends_total{channel=sms,journey=otp,result=accepted,template=none}":        1,
				"switchback_statuses_total{channel=sms,journey=otp,status=sent,template=none}":         1,
				"switchback_fallbacks_total{channel=sms,journey=otp,reason=timeout}":                   1,
				"switchback_skips_total{channel=email,journey=otp,reason=no_address}":                  1,
			},
		},
		{
			name:    "suppressed on whatsapp",
			in:      fallbackInput,
			checks:  &fakeChecks{window: true, deny: map[channels.Channel]activities.Eligibility{wa: suppressed("stop")}},
			signals: []signalAt{{time.Second, status(sms, channels.StatusDelivered)}},
			want: map[string]int64{
				"switchback_skips_total{channel=whatsapp,journey=otp,reason=suppressed}":            1,
				"switchback_sends_total{channel=sms,journey=otp,result=accepted,template=none}":     1,
				"switchback_statuses_total{channel=sms,journey=otp,status=delivered,template=none}": 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := tt.checks
			if checks == nil {
				checks = &fakeChecks{window: true}
			}
			got := countersAfter(t, tt.in(t), &fakeSends{errs: tt.errs}, tt.signals, checks)
			if !maps.Equal(got, tt.want) {
				t.Errorf("counters = %v, want %v", got, tt.want)
			}
		})
	}
}
