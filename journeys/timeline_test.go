package journeys

import (
	"slices"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// The statuses the webhooks recorded join the journey's timeline at their
// time; what the journey has, events of no provider message and other
// event kinds do not.
func TestAddRecorded(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tl := Timeline{Events: []Event{
		{Time: at(0), Kind: EventStarted},
		{Time: at(1), Kind: EventSent, Provider: "whatsapp", MessageID: "wamid.A"},
		{Time: at(5), Kind: EventStatus, Provider: "whatsapp", MessageID: "wamid.A", Status: channels.StatusDelivered},
		{Time: at(6), Kind: EventDone},
	}}
	ev := func(s int, status store.EventStatus) store.MessageEvent {
		return store.MessageEvent{Provider: "whatsapp", MessageID: "wamid.A", Status: status, Step: "code", Attempt: 1,
			Channel: channels.WhatsApp, At: at(s)}
	}
	tl.AddRecorded([]store.MessageEvent{
		ev(1, store.EventAccepted),
		ev(3, store.EventSent),
		ev(5, store.EventDelivered),
		ev(9, store.EventRead),
		{Provider: store.LocalProvider, MessageID: "otp-1#2", Status: store.EventSkipped, At: at(4)},
		{Provider: "whatsapp", MessageID: "wamid.A", Status: store.EventReply, At: at(7)},
	})
	var got []string
	for _, e := range tl.Events {
		got = append(got, e.Label())
		if e.Reason == RecordedReason && (e.Step != "code" || e.Attempt != 1 || e.Channel != channels.WhatsApp) {
			t.Errorf("recorded %+v, want the event log's step, attempt and channel", e)
		}
	}
	want := []string{"started", "sent", "status sent", "status delivered", "done", "status read"}
	if !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
}
