package activities

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

func TestRecordEvent(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	status := func(ch channels.Channel, s store.EventStatus, code string) EventRequest {
		return EventRequest{To: testNumber, Event: store.MessageEvent{
			Provider: "p", MessageID: "m-" + string(s), Status: s, Channel: ch, ErrorCode: code, ErrorReason: "r" + code,
			Journey: "otp", WorkflowID: "otp-1", Attempt: 1,
		}}
	}
	tests := []struct {
		name      string
		reqs      []EventRequest
		wantReach []store.Reachability
		wantSups  []store.Suppression
	}{
		{"delivered marks reachable", []EventRequest{status(channels.WhatsApp, store.EventDelivered, "")},
			[]store.Reachability{{ContactKey: key, Channel: channels.WhatsApp, Reachable: true, At: now}}, nil},
		{"131026 marks WhatsApp unreachable", []EventRequest{status(channels.WhatsApp, store.EventFailed, "131026")},
			[]store.Reachability{{ContactKey: key, Channel: channels.WhatsApp, Code: "131026", Reason: "r131026", At: now}}, nil},
		{"a passing failure says nothing", []EventRequest{status(channels.WhatsApp, store.EventFailed, "131049")}, nil, nil},
		{"21211 suppresses SMS", []EventRequest{status(channels.SMS, store.EventFailed, "21211")},
			[]store.Reachability{{ContactKey: key, Channel: channels.SMS, Code: "21211", Reason: "r21211", At: now}},
			[]store.Suppression{{ContactKey: key, Channel: channels.SMS, Reason: store.ReasonInvalidNumber, Source: "p 21211", At: now}}},
		{"skips say nothing", []EventRequest{{To: testNumber, Event: store.MessageEvent{Status: store.EventSkipped, Channel: channels.WhatsApp, ErrorReason: ReasonWindowClosed}}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			a, st := newTestActivities(t, now)
			for _, r := range tt.reqs {
				if err := a.RecordEvent(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			reach, err := st.Reachabilities(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(reach, tt.wantReach) {
				t.Errorf("reachability = %+v, want %+v", reach, tt.wantReach)
			}
			sups, err := st.Suppressions(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sups, tt.wantSups) {
				t.Errorf("suppressions = %+v, want %+v", sups, tt.wantSups)
			}
		})
	}
}

func TestRecordEventDefaultsAndDedup(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	a, st := newTestActivities(t, now)
	skip := EventRequest{To: testNumber, Event: store.MessageEvent{
		Status: store.EventSkipped, Journey: "cart", WorkflowID: "cart-1", Step: "nudge", Attempt: 2,
		Channel: channels.WhatsApp, ErrorReason: ReasonNoMarketingConsent,
	}}
	for range 2 { // a retried activity
		if err := a.RecordEvent(ctx, skip); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Events(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := skip.Event
	want.Provider, want.MessageID = store.LocalProvider, "cart-1#2"
	want.ContactKey, want.At = journeys.ContactKey([]byte(testSecret), testNumber), now
	if len(got) != 1 || got[0] != want {
		t.Errorf("events = %+v, want [%+v]", got, want)
	}
}

type fakeSender struct{ res channels.SendResult }

func (f fakeSender) Send(context.Context, channels.Message) (channels.SendResult, error) {
	return f.res, nil
}

func TestSendRecordsAccepted(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	a, st := newTestActivities(t, now)
	a.Senders = map[channels.Channel]channels.Sender{
		channels.WhatsApp: fakeSender{channels.SendResult{Provider: "whatsapp", MessageID: "wamid.9", Status: channels.StatusAccepted}},
	}
	msg := channels.Message{Channel: channels.WhatsApp, To: testNumber, Template: &channels.Template{Name: "otp_code"},
		Correlation: channels.Correlation{WorkflowID: "otp-9", Attempt: 1}}
	if _, err := a.SendMessage(ctx, SendRequest{Journey: "otp", Step: "code", Message: msg}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Events(ctx, store.EventFilter{WorkflowID: "otp-9"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.MessageEvent{Provider: "whatsapp", MessageID: "wamid.9", Status: store.EventAccepted, Journey: "otp",
		WorkflowID: "otp-9", Step: "code", Attempt: 1, Channel: channels.WhatsApp, Template: "otp_code",
		ContactKey: journeys.ContactKey([]byte(testSecret), testNumber), At: now}
	if len(got) != 1 || got[0] != want {
		t.Errorf("events = %+v, want [%+v]", got, want)
	}
}
