package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

func TestSummarize(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	wa := func(id string, s store.EventStatus, code string) store.MessageEvent {
		return store.MessageEvent{Provider: "whatsapp", MessageID: id, Status: s, ErrorCode: code, At: at}
	}
	sent := func(id string, ch channels.Channel, tmpl string) store.MessageEvent {
		return store.MessageEvent{Provider: string(ch), MessageID: id, Status: store.EventAccepted,
			Journey: "otp", Step: "code", Channel: ch, Template: tmpl, At: at}
	}
	otp := func(s store.EventStatus, ch channels.Channel) store.MessageEvent {
		return store.MessageEvent{Provider: store.LocalProvider, MessageID: "x" + string(s) + string(ch), Status: s, Journey: "otp", Step: "code", Channel: ch, At: at}
	}
	classed := func(e store.MessageEvent, c store.ReasonClass) store.MessageEvent {
		e.ReasonClass = c
		return e
	}
	events := []store.MessageEvent{
		sent("w1", channels.WhatsApp, "otp_code"), wa("w1", store.EventSent, ""), wa("w1", store.EventRead, ""), // read without delivered
		sent("w2", channels.WhatsApp, "otp_code"), wa("w2", store.EventDelivered, ""),
		sent("w3", channels.WhatsApp, "otp_code"), wa("w3", store.EventFailed, "131026"),
		sent("w4", channels.WhatsApp, "otp_code"), wa("w4", store.EventFailed, "131026"),
		wa("w5", store.EventFailed, "131047"),                                                                       // a status whose send was not recorded: its own row
		classed(otp(store.EventFallback, channels.WhatsApp), store.ClassTimeout), otp("unknown", channels.WhatsApp), // unknown statuses count nowhere
		sent("s1", channels.SMS, ""), {Provider: "sms", MessageID: "s1", Status: store.EventDelivered, At: at},
		{Provider: store.LocalProvider, MessageID: "otp-9#2", Status: store.EventFailed, ErrorCode: "21211", Journey: "otp", Step: "code", Channel: channels.SMS, At: at},
		classed(otp(store.EventSkipped, channels.SMS), store.ClassSuppressed),
		{Provider: "whatsapp", MessageID: "in1#otp-1", Status: store.EventReply, Journey: "otp", Channel: channels.WhatsApp, At: at},
		{Provider: store.LocalProvider, MessageID: "otp-1#goal", Status: store.EventConverted, Journey: "otp", At: at},
	}
	// Fallbacks and skips are recorded without a template. Two templates
	// on one step and channel: each fallback goes to its attempt's, and a
	// skip, whose attempt sent nothing, stays on its own row.
	promo := func(s store.EventStatus, id string, attempt int, tmpl string) store.MessageEvent {
		return store.MessageEvent{Provider: "whatsapp", MessageID: id, Status: s, Journey: "promo", WorkflowID: "promo-1",
			Step: "s", Attempt: attempt, Channel: channels.WhatsApp, Template: tmpl, At: at}
	}
	events = append(events,
		promo(store.EventAccepted, "p1", 1, "spring"), promo(store.EventFailed, "p1", 1, ""),
		classed(promo(store.EventFallback, "promo-1#1", 1, ""), store.ClassFailedStatus),
		promo(store.EventAccepted, "p2", 2, "summer"), promo(store.EventFallback, "promo-1#2", 2, ""), // recorded before classes
		classed(promo(store.EventSkipped, "promo-1#3", 3, ""), store.ClassNoConsent),
	)
	got := store.Summarize(events)
	want := []store.ReportRow{
		{ReportKey: store.ReportKey{Journey: ""}, Failed: map[string]int{"131047": 1}},
		{ReportKey: store.ReportKey{Journey: "otp"}, Conversions: 1},
		{ReportKey: store.ReportKey{Journey: "otp", Channel: channels.WhatsApp}, Replies: 1},
		{ReportKey: store.ReportKey{Journey: "otp", Step: "code", Channel: channels.SMS}, Sent: 1, Delivered: 1, Failed: map[string]int{"21211": 1}, Skipped: 1,
			SkippedBy: map[store.ReasonClass]int{store.ClassSuppressed: 1}},
		// The fallback's attempt sent nothing the log knows of: the step
		// and channel's only template gets it.
		{ReportKey: store.ReportKey{Journey: "otp", Step: "code", Channel: channels.WhatsApp, Template: "otp_code"},
			Sent: 4, Delivered: 2, Read: 1, Failed: map[string]int{"131026": 2}, Fallbacks: 1,
			FallbacksBy: map[store.ReasonClass]int{store.ClassTimeout: 1}},
		{ReportKey: store.ReportKey{Journey: "promo", Step: "s", Channel: channels.WhatsApp}, Skipped: 1,
			SkippedBy: map[store.ReasonClass]int{store.ClassNoConsent: 1}},
		{ReportKey: store.ReportKey{Journey: "promo", Step: "s", Channel: channels.WhatsApp, Template: "spring"}, Sent: 1, Failed: map[string]int{"": 1}, Fallbacks: 1,
			FallbacksBy: map[store.ReasonClass]int{store.ClassFailedStatus: 1}},
		{ReportKey: store.ReportKey{Journey: "promo", Step: "s", Channel: channels.WhatsApp, Template: "summer"}, Sent: 1, Fallbacks: 1,
			FallbacksBy: map[store.ReasonClass]int{store.ClassOther: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize =\n%+v\nwant\n%+v", got, want)
	}
	if n := want[3].FailedTotal(); n != 1 {
		t.Errorf("FailedTotal = %d", n)
	}
}
