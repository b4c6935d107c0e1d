package workflows

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uber-go/tally/v4"
	"go.temporal.io/sdk/activity"
	contribtally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

func TestFallbackClass(t *testing.T) {
	tests := []struct {
		reason string
		want   string
	}{
		{"send failed: permanent error 131026 from whatsapp: Message undeliverable", FallbackRejected},
		{"send failed: retryable error 130429 from whatsapp: rate limit", FallbackSendError},
		{"send failed: gave up retrying within the attempt's time; last retryable error 2 from whatsapp: down", FallbackSendError},
		{"send failed: provider not reached in time (StartToClose timeout)", FallbackSendError},
		{"whatsapp reported the message failed", FallbackFailedStatus},
		{"twilio reported the message failed", FallbackFailedStatus},
		{"no delivered status within 30s", FallbackTimeout},
		{"no status for the attempt within 1m0s", FallbackTimeout},
		{`template: sms:1: map has no entry for key "code"`, FallbackOther},
		{"", FallbackOther},
	}
	for _, tt := range tests {
		if got := fallbackClass(tt.reason); got != tt.want {
			t.Errorf("fallbackClass(%q) = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

func TestSkipClass(t *testing.T) {
	tests := []struct {
		reason string
		want   string
	}{
		{"no email address for this contact", SkipNoAddress},
		{activities.ReasonSuppressedPrefix + "stop", SkipSuppressed},
		{activities.ReasonNoMarketingConsent, SkipNoConsent},
		{activities.ReasonWindowClosed, SkipWindowClosed},
		{"eligibility unknown: store unreachable", SkipEligibilityUnknown},
		{"unreachable here last time (131026: undeliverable): trying the other channels first", SkipUnreachable},
		{"something new", SkipOther},
	}
	for _, tt := range tests {
		if got := skipClass(tt.reason); got != tt.want {
			t.Errorf("skipClass(%q) = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

func TestTemplateLabel(t *testing.T) {
	tests := []struct {
		msg  channels.Message
		want string
	}{
		{channels.Message{Channel: channels.WhatsApp, Template: &channels.Template{Name: "otp_code"}}, "otp_code"},
		{channels.Message{Channel: channels.WhatsApp, Text: "hello"}, NoTemplate},
		{channels.Message{Channel: channels.SMS, Text: "code"}, NoTemplate},
		{channels.Message{Channel: channels.Email, Email: &channels.EmailContent{TemplateID: "d-otp-code"}}, NoTemplate},
	}
	for _, tt := range tests {
		if got := templateLabel(tt.msg); got != tt.want {
			t.Errorf("templateLabel(%+v) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

// countersAfter runs in to its end with the fake providers and returns the
// journey counters it reported, as "name{label=value,...}" → count, with
// the SDK's own labels left out.
func countersAfter(t *testing.T, in journeys.Input, fake *fakeSends, signals []signalAt, checks *fakeChecks) map[string]int64 {
	t.Helper()
	scope := tally.NewTestScope("", nil)
	var ts testsuite.WorkflowTestSuite
	ts.SetMetricsHandler(contribtally.NewMetricsHandler(scope))
	env := ts.NewTestWorkflowEnvironment()
	checks.register(env)
	env.RegisterWorkflowWithOptions(Journey, workflowOptions())
	env.RegisterActivityWithOptions(fake.send, activity.RegisterOptions{Name: activities.SendName})
	for _, s := range signals {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalStatus, s.update) }, s.after)
	}
	env.ExecuteWorkflow(journeys.WorkflowType, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	got := map[string]int64{}
	for _, c := range scope.Snapshot().Counters() {
		if !strings.HasPrefix(c.Name(), "switchback_") {
			continue
		}
		var labels []string
		for k, v := range c.Tags() {
			switch k {
			case "namespace", "task_queue", "workflow_type":
				continue
			}
			labels = append(labels, k+"="+v)
		}
		slices.Sort(labels)
		got[fmt.Sprintf("%s{%s}", c.Name(), strings.Join(labels, ","))] += c.Value()
	}
	return got
}

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
			checks:  &fakeChecks{window: true, deny: map[channels.Channel]string{wa: activities.ReasonSuppressedPrefix + "stop"}},
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
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d", k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := tt.want[k]; !ok {
					t.Errorf("unexpected counter %s = %d", k, v)
				}
			}
		})
	}
}
