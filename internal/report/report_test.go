package report

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"7d", now.AddDate(0, 0, -7), false},
		{"2026-06-01", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-06-01T08:00:00+02:00", time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC), false},
		{"-5h", time.Time{}, true},
		{"last week", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSince(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// at returns a time minutes and seconds after a fixed start.
func at(min, sec int) time.Time {
	return time.Date(2026, 6, 1, 8, min, sec, 0, time.UTC)
}

func TestLatenciesAndFailures(t *testing.T) {
	var events []store.MessageEvent
	// Ten SMS delivered 1s..10s after acceptance; one read without a
	// delivered event counts its read; one never delivered is left out.
	for i := 1; i <= 10; i++ {
		id := "s" + strconv.Itoa(i)
		events = append(events,
			store.MessageEvent{Provider: "twilio", MessageID: id, Status: store.EventAccepted, Channel: channels.SMS, At: at(0, 0)},
			store.MessageEvent{Provider: "twilio", MessageID: id, Status: store.EventDelivered, At: at(0, i)})
	}
	events = append(events,
		store.MessageEvent{Provider: "whatsapp", MessageID: "w1", Status: store.EventAccepted, Channel: channels.WhatsApp, At: at(1, 0)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w1", Status: store.EventRead, At: at(1, 30)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w1", Status: store.EventDelivered, At: at(1, 40)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w2", Status: store.EventAccepted, Channel: channels.WhatsApp, At: at(1, 0)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w2", Status: store.EventFailed, ErrorCode: "131026", ErrorReason: "Message undeliverable", At: at(1, 5)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w3", Status: store.EventAccepted, Channel: channels.WhatsApp, At: at(1, 0)},
		store.MessageEvent{Provider: "whatsapp", MessageID: "w3", Status: store.EventFailed, ErrorCode: "131026", At: at(1, 5)},
		store.MessageEvent{Provider: "twilio", MessageID: "s11", Status: store.EventAccepted, Channel: channels.SMS, At: at(2, 0)},
		store.MessageEvent{Provider: "twilio", MessageID: "s11", Status: store.EventFailed, ErrorCode: "30003", ErrorReason: "Unreachable destination handset", At: at(2, 9)},
	)
	want := []Latency{
		{Channel: channels.SMS, Messages: 10, P50: 5 * time.Second, P90: 9 * time.Second, P99: 10 * time.Second},
		{Channel: channels.WhatsApp, Messages: 1, P50: 30 * time.Second, P90: 30 * time.Second, P99: 30 * time.Second},
	}
	if got := Latencies(events); !slices.Equal(got, want) {
		t.Errorf("Latencies = %+v\nwant %+v", got, want)
	}
	wantF := []Failure{
		{Channel: channels.SMS, Provider: "twilio", Code: "30003", Messages: 1, Reason: "Unreachable destination handset"},
		{Channel: channels.WhatsApp, Provider: "whatsapp", Code: "131026", Messages: 2, Reason: "Message undeliverable", Class: "permanent"},
	}
	if got := Failures(events); !slices.Equal(got, wantF) {
		t.Errorf("Failures = %+v\nwant %+v", got, wantF)
	}
}

func TestRowsUntilAndJourney(t *testing.T) {
	events := []store.MessageEvent{
		{Provider: "twilio", MessageID: "a", Status: store.EventAccepted, Journey: "otp", Step: "code", Channel: channels.SMS, At: at(0, 0)},
		{Provider: "twilio", MessageID: "a", Status: store.EventDelivered, At: at(5, 0)},
		{Provider: "twilio", MessageID: "b", Status: store.EventAccepted, Journey: "cart", Step: "nudge", Channel: channels.SMS, At: at(0, 0)},
	}
	rows := Rows(events, Filter{Journey: "otp", Until: at(1, 0)})
	if len(rows) != 1 || rows[0].Journey != "otp" || rows[0].Sent != 1 || rows[0].Delivered != 0 {
		t.Errorf("Rows until 08:01 for otp = %+v, want otp sent 1, delivered 0", rows)
	}
	var b strings.Builder
	if err := WriteCSV(&b, Rows(events, Filter{})); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(Header(), ",") + "\ncart,nudge,sms,,1,0,0,0,,0,,0,,0,0,0,\notp,code,sms,,1,1,0,0,,0,,0,,0,0,0,\n"
	if b.String() != want {
		t.Errorf("WriteCSV =\n%s\nwant\n%s", b.String(), want)
	}
}

// tier_limited skips count on their attempt's row by class; a broadcast's
// pauses on the journey's (broadcast) row, by class.
func TestRowsTierAndPauses(t *testing.T) {
	events := []store.MessageEvent{
		{Provider: store.LocalProvider, MessageID: "sale/k1#1", Status: store.EventSkipped, Journey: "promo", Step: "offer",
			Channel: channels.WhatsApp, Template: "promo", WorkflowID: "sale/k1", Attempt: 1, ReasonClass: store.ClassTierLimited, At: at(0, 0)},
		{Provider: store.LocalProvider, MessageID: "sale/k2#1", Status: store.EventSkipped, Journey: "promo", Step: "offer",
			Channel: channels.WhatsApp, Template: "promo", WorkflowID: "sale/k2", Attempt: 1, ReasonClass: store.ClassTierLimited, At: at(0, 1)},
		{Provider: store.LocalProvider, MessageID: "sale#pause-1", Status: store.EventBroadcastPaused, Journey: "promo", WorkflowID: "sale",
			ReasonClass: store.ClassTemplatePaused, ErrorReason: "template promo (en_US) is PAUSED", At: at(0, 2)},
		{Provider: store.LocalProvider, MessageID: "sale#pause-2", Status: store.EventBroadcastPaused, Journey: "promo", WorkflowID: "sale",
			ReasonClass: store.ClassFailureSurge, At: at(0, 3)},
	}
	var b strings.Builder
	if err := WriteCSV(&b, Rows(events, Filter{})); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(Header(), ",") + "\n" +
		"promo,(broadcast),,,0,0,0,0,,0,,0,,0,0,2,failure_surge=1 template_paused=1\n" +
		"promo,offer,whatsapp,promo,0,0,0,0,,0,,2,tier_limited=2,0,0,0,\n"
	if b.String() != want {
		t.Errorf("WriteCSV =\n%s\nwant\n%s", b.String(), want)
	}
}
