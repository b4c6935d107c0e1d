package activities

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// counters returns the journey counters gathered from reg, as
// "name{label=value,...}" → count.
func counters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[fmt.Sprintf("%s{%s}", f.GetName(), strings.Join(labels, ","))] += m.GetCounter().GetValue()
		}
	}
	return got
}

// newCountingActivities returns test Activities whose Metrics count on a
// fresh registry.
func newCountingActivities(t *testing.T) (*Activities, *prometheus.Registry) {
	t.Helper()
	a, _ := newTestActivities(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.Metrics = m
	return a, reg
}

func TestMetricsCount(t *testing.T) {
	wa, sms, email := channels.WhatsApp, channels.SMS, channels.Email
	// event is an event as the journey notes it (workflows/checks.go).
	event := func(ch channels.Channel, s store.EventStatus, provider, id, template, reason string) EventRequest {
		return EventRequest{To: testNumber, Event: store.MessageEvent{
			Provider: provider, MessageID: id, Status: s, Journey: "otp", WorkflowID: "otp-1", Step: "code",
			Attempt: 1, Channel: ch, Template: template, ErrorReason: reason,
		}}
	}
	classed := func(req EventRequest, class store.ReasonClass) *EventRequest {
		req.Event.ReasonClass = class
		return &req
	}
	tests := []struct {
		name string
		send *SendRequest  // sent through SendMessage, which records the accepted event
		req  *EventRequest // recorded through RecordEvent
		want map[string]float64
	}{
		{
			name: "accepted whatsapp template",
			send: &SendRequest{Journey: "otp", Step: "code", Message: channels.Message{Channel: wa, To: testNumber,
				Template: &channels.Template{Name: "otp_code"}, Correlation: channels.Correlation{WorkflowID: "otp-1", Attempt: 1}}},
			want: map[string]float64{"switchback_sends_total{channel=whatsapp,journey=otp,result=accepted,template=otp_code}": 1},
		},
		{
			name: "accepted email template is none",
			send: &SendRequest{Journey: "otp", Step: "code", Message: channels.Message{Channel: email, To: testEmail,
				Email: &channels.EmailContent{TemplateID: "d-otp"}, Correlation: channels.Correlation{WorkflowID: "otp-1", Attempt: 2}}},
			want: map[string]float64{"switchback_sends_total{channel=email,journey=otp,result=accepted,template=none}": 1},
		},
		{
			name: "failed send, under the local provider",
			req:  ptr(event(wa, store.EventFailed, store.LocalProvider, store.LocalMessageID("otp-1", 1), "otp_code", "permanent error 131026 from whatsapp: undeliverable")),
			want: map[string]float64{"switchback_sends_total{channel=whatsapp,journey=otp,result=failed,template=otp_code}": 1},
		},
		{
			name: "failed send without a message id",
			req:  ptr(event(sms, store.EventFailed, "", "", "", "provider not reached in time (StartToClose timeout)")),
			want: map[string]float64{"switchback_sends_total{channel=sms,journey=otp,result=failed,template=none}": 1},
		},
		{
			name: "failed status from the provider",
			req:  ptr(event(wa, store.EventFailed, "whatsapp", "wamid.1", "otp_code", "Message undeliverable")),
			want: map[string]float64{"switchback_statuses_total{channel=whatsapp,journey=otp,status=failed,template=otp_code}": 1},
		},
		{
			name: "sent status",
			req:  ptr(event(wa, store.EventSent, "whatsapp", "wamid.1", "otp_code", "")),
			want: map[string]float64{"switchback_statuses_total{channel=whatsapp,journey=otp,status=sent,template=otp_code}": 1},
		},
		{
			name: "delivered sms",
			req:  ptr(event(sms, store.EventDelivered, "twilio", "SM1", "", "")),
			want: map[string]float64{"switchback_statuses_total{channel=sms,journey=otp,status=delivered,template=none}": 1},
		},
		{
			name: "read whatsapp session message",
			req:  ptr(event(wa, store.EventRead, "whatsapp", "wamid.2", "", "")),
			want: map[string]float64{"switchback_statuses_total{channel=whatsapp,journey=otp,status=read,template=none}": 1},
		},
		{
			name: "status of a message not known yet",
			req:  ptr(event("", store.EventDelivered, "twilio", "SM2", "", "")),
			want: map[string]float64{"switchback_statuses_total{channel=unknown,journey=otp,status=delivered,template=none}": 1},
		},
		{
			name: "fallback on a failed status",
			req:  classed(event(wa, store.EventFallback, "", "", "", "whatsapp reported the message failed"), store.ClassFailedStatus),
			want: map[string]float64{"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=failed_status}": 1},
		},
		{
			name: "fallback on a refused send",
			req:  classed(event(wa, store.EventFallback, "", "", "", "send failed: permanent error 131026 from whatsapp: undeliverable"), store.ClassRejected),
			want: map[string]float64{"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=rejected}": 1},
		},
		{
			name: "the class is the label, whatever the text says",
			req:  classed(event(wa, store.EventFallback, "", "", "", "whatsapp reported the message failed"), store.ClassTimeout),
			want: map[string]float64{"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=timeout}": 1},
		},
		{
			name: "fallback without a class (recorded before classes)",
			req:  ptr(event(wa, store.EventFallback, "", "", "", "no delivered status within 30s")),
			want: map[string]float64{"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=other}": 1},
		},
		{
			name: "skip without an address",
			req:  classed(event(email, store.EventSkipped, "", "", "", "no email address for this contact"), store.ClassNoAddress),
			want: map[string]float64{"switchback_skips_total{channel=email,journey=otp,reason=no_address}": 1},
		},
		{
			name: "conversion is no counter's",
			req:  ptr(event("", store.EventConverted, "", "", "", "goal login")),
			want: map[string]float64{},
		},
		{
			name: "reply is no counter's",
			req:  ptr(event(wa, store.EventReply, "whatsapp", "wamid.in", "", "")),
			want: map[string]float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, reg := newCountingActivities(t)
			a.Senders = map[channels.Channel]channels.Sender{
				wa:    fakeSender{channels.SendResult{Provider: "whatsapp", MessageID: "wamid.1", Status: channels.StatusAccepted}},
				email: fakeSender{channels.SendResult{Provider: "sendgrid", MessageID: "sg.1", Status: channels.StatusAccepted}},
			}
			ctx := context.Background()
			if tt.send != nil {
				if _, err := a.SendMessage(ctx, *tt.send); err != nil {
					t.Fatal(err)
				}
			}
			if tt.req != nil {
				if err := a.RecordEvent(ctx, *tt.req); err != nil {
					t.Fatal(err)
				}
			}
			if got := counters(t, reg); !maps.Equal(got, tt.want) {
				t.Errorf("counters = %v, want %v", got, tt.want)
			}
		})
	}
}

// A retried activity records its event once, and counts it once.
func TestMetricsCountOnce(t *testing.T) {
	a, reg := newCountingActivities(t)
	a.Senders = map[channels.Channel]channels.Sender{
		channels.WhatsApp: fakeSender{channels.SendResult{Provider: "whatsapp", MessageID: "wamid.1", Status: channels.StatusAccepted}},
	}
	ctx := context.Background()
	send := SendRequest{Journey: "otp", Step: "code", Message: channels.Message{Channel: channels.WhatsApp, To: testNumber,
		Template: &channels.Template{Name: "otp_code"}, Correlation: channels.Correlation{WorkflowID: "otp-1", Attempt: 1}}}
	status := EventRequest{To: testNumber, Event: store.MessageEvent{Provider: "whatsapp", MessageID: "wamid.1",
		Status: store.EventDelivered, Journey: "otp", WorkflowID: "otp-1", Attempt: 1, Channel: channels.WhatsApp, Template: "otp_code"}}
	fallback := EventRequest{To: testNumber, Event: store.MessageEvent{Status: store.EventFallback, Journey: "otp",
		WorkflowID: "otp-1", Attempt: 1, Channel: channels.WhatsApp, ErrorReason: "no read status within 1m0s", ReasonClass: store.ClassTimeout}}
	for range 2 {
		if _, err := a.SendMessage(ctx, send); err != nil {
			t.Fatal(err)
		}
		if err := a.RecordEvents(ctx, []EventRequest{status, fallback}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{
		"switchback_sends_total{channel=whatsapp,journey=otp,result=accepted,template=otp_code}":     1,
		"switchback_statuses_total{channel=whatsapp,journey=otp,status=delivered,template=otp_code}": 1,
		"switchback_fallbacks_total{channel=whatsapp,journey=otp,reason=timeout}":                    1,
	}
	if got := counters(t, reg); !maps.Equal(got, want) {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

// Activities without Metrics record events and count nothing.
func TestNilMetrics(t *testing.T) {
	a, st := newTestActivities(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	req := EventRequest{To: testNumber, Event: store.MessageEvent{Provider: "twilio", MessageID: "SM1",
		Status: store.EventDelivered, Journey: "otp", WorkflowID: "otp-1", Attempt: 1, Channel: channels.SMS}}
	if err := a.RecordEvent(ctx, req); err != nil {
		t.Fatal(err)
	}
	got, err := st.Events(ctx, store.EventFilter{WorkflowID: "otp-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("events = %+v, want one", got)
	}
}

// NewMetrics on a registry that has the counters already takes them.
func TestNewMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics: %v", err)
	}
	m1.count(store.MessageEvent{Status: store.EventSkipped, Channel: channels.SMS, Journey: "otp", ErrorReason: ReasonWindowClosed, ReasonClass: store.ClassWindowClosed})
	m2.count(store.MessageEvent{Status: store.EventSkipped, Channel: channels.SMS, Journey: "otp", ErrorReason: ReasonWindowClosed, ReasonClass: store.ClassWindowClosed})
	want := map[string]float64{"switchback_skips_total{channel=sms,journey=otp,reason=window_closed}": 2}
	if got := counters(t, reg); !maps.Equal(got, want) {
		t.Errorf("counters = %v, want %v", got, want)
	}
	// A collector of another kind under the same name is an error.
	other := prometheus.NewRegistry()
	other.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricSends, Help: "not a counter"}))
	if _, err := NewMetrics(other); err == nil {
		t.Error("NewMetrics over a gauge of the same name: no error")
	}
}

func ptr[T any](v T) *T { return &v }
