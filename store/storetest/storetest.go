// Package storetest is the test suite every store.Store implementation
// passes: store/sqlite and store/postgres run it from their tests.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// Opener returns a new, empty, migrated store for one test, configured by
// opts; the suite closes it.
type Opener func(t *testing.T, opts store.Options) store.Store

// t0 is the suite's reference time, with microseconds, the precision
// stores keep.
func t0() time.Time { return time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC) }

// Run runs the suite, each test on a store of its own.
func Run(t *testing.T, open Opener) {
	runEach(t, open, store.Options{}, []suiteTest{
		{"Ping", testPing},
		{"Messages", testMessages},
		{"Contacts", testContacts},
		{"Consent", testConsent},
		{"Suppressions", testSuppressions},
		{"Reachability", testReachability},
		{"Inbound", testInbound},
		{"InboundClaims", testInboundClaims},
		{"MessageContact", testMessageContact},
		{"Events", testEvents},
		{"EventFilter", testEventFilter},
		{"EventReasonClass", testEventReasonClass},
		{"Deliveries", testDeliveries},
		{"Templates", testTemplates},
		{"OutboxOff", testOutboxOff},
	})
	runEach(t, open, store.Options{}, capTests)
	runEach(t, open, store.Options{}, tierTests)
	runEach(t, open, store.Options{}, segmentTests)
	runEach(t, open, store.Options{}, deviceTests)
	runEach(t, open, store.Options{EventOutbox: true}, outboxTests)
}

// suiteTest is one test of the suite.
type suiteTest struct {
	name string
	fn   func(t *testing.T, ctx context.Context, s store.Store)
}

// runEach runs each test on a store of its own, opened with opts.
func runEach(t *testing.T, open Opener, opts store.Options, tests []suiteTest) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, opts)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, context.Background(), s)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err = %v, want ErrNotFound", what, err)
	}
}

func testPing(t *testing.T, ctx context.Context, s store.Store) {
	must(t, s.Ping(ctx))
	// A readiness check bounds Ping with its context.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Ping(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping with a canceled context = %v, want context.Canceled", err)
	}
}

func testMessages(t *testing.T, ctx context.Context, s store.Store) {
	ref := store.MessageRef{Provider: "whatsapp", MessageID: "wamid.1", WorkflowID: "otp-1", Attempt: 1, Channel: channels.WhatsApp,
		Journey: "otp", Step: "code", Template: "otp_code", ContactKey: "k1", Await: channels.StatusDelivered}
	must(t, s.RecordMessage(ctx, ref))
	// A repeated record (an activity retried after its result was lost) keeps the first.
	again := ref
	again.Attempt, again.Await = 2, channels.StatusRead
	must(t, s.RecordMessage(ctx, again))
	got, err := s.LookupMessage(ctx, "whatsapp", "wamid.1")
	must(t, err)
	if got != ref {
		t.Errorf("LookupMessage = %+v, want %+v", got, ref)
	}
	// Marked awaited, it says so; marking again, or an unknown message, is no error.
	for range 2 {
		must(t, s.MarkAwaited(ctx, "whatsapp", "wamid.1"))
	}
	must(t, s.MarkAwaited(ctx, "whatsapp", "wamid.unknown"))
	got, err = s.LookupMessage(ctx, "whatsapp", "wamid.1")
	must(t, err)
	if !got.Awaited {
		t.Errorf("LookupMessage after MarkAwaited = %+v, want it awaited", got)
	}
	if got.Awaited = false; got != ref {
		t.Errorf("LookupMessage after MarkAwaited = %+v, want %+v", got, ref)
	}
	_, err = s.LookupMessage(ctx, "twilio", "wamid.1")
	wantNotFound(t, "lookup under another provider", err)
}

func testContacts(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.Contact(ctx, "k1")
	wantNotFound(t, "Contact before upsert", err)
	must(t, s.UpsertContact(ctx, store.Contact{Key: "k1", Number: "+15551234567", Email: " Ana@Example.COM ", Tags: []string{"vip"}}))
	// Empty fields keep what is stored; set ones replace it; tags add up.
	must(t, s.UpsertContact(ctx, store.Contact{Key: "k1", Locale: "pt_BR", TimeZone: "America/Sao_Paulo", Tags: []string{"vip", "beta"}}))
	want := store.Contact{Key: "k1", Number: "+15551234567", Email: "ana@example.com", Locale: "pt_BR", TimeZone: "America/Sao_Paulo",
		Tags: []string{"beta", "vip"}}
	got, err := s.Contact(ctx, "k1")
	must(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Contact = %+v, want %+v", got, want)
	}
	got, err = s.ContactByEmail(ctx, "ANA@example.com")
	must(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ContactByEmail = %+v, want %+v", got, want)
	}
	_, err = s.ContactByEmail(ctx, "bo@example.com")
	wantNotFound(t, "ContactByEmail of a stranger", err)
	if err := s.UpsertContact(ctx, store.Contact{Number: "+1555"}); err == nil {
		t.Error("UpsertContact without a key: no error")
	}
	if err := s.UpsertContact(ctx, store.Contact{Key: "k2", Tags: []string{"Big Spender"}}); err == nil || !strings.Contains(err.Error(), "tag") {
		t.Errorf("UpsertContact with an invalid tag = %v, want an error naming the tag", err)
	}
	_, err = s.Contact(ctx, "k2")
	wantNotFound(t, "Contact after an invalid upsert", err)
}

func testConsent(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.LatestConsent(ctx, "k1", channels.WhatsApp, "marketing")
	wantNotFound(t, "LatestConsent before any", err)
	entries := []store.Consent{
		{ContactKey: "k1", Channel: channels.WhatsApp, Purpose: "marketing", Granted: true, Source: "checkout checkbox", At: t0()},
		{ContactKey: "k1", Channel: channels.WhatsApp, Purpose: "marketing", Granted: false, Source: "inbound keyword STOP", At: t0().Add(time.Hour)},
		// Recorded late but older: history, not in force.
		{ContactKey: "k1", Channel: channels.WhatsApp, Purpose: "marketing", Granted: true, Source: "import", At: t0().Add(time.Minute)},
		{ContactKey: "k1", Channel: channels.SMS, Purpose: "marketing", Granted: true, Source: "import", At: t0()},
		{ContactKey: "k2", Channel: channels.WhatsApp, Purpose: "marketing", Granted: true, Source: "import", At: t0().Add(2 * time.Hour)},
	}
	for _, c := range entries {
		must(t, s.RecordConsent(ctx, c))
	}
	got, err := s.LatestConsent(ctx, "k1", channels.WhatsApp, "marketing")
	must(t, err)
	if got != entries[1] {
		t.Errorf("LatestConsent = %+v, want the withdrawal %+v", got, entries[1])
	}
	// At the same time, the later recording wins.
	regrant := store.Consent{ContactKey: "k1", Channel: channels.WhatsApp, Purpose: "marketing", Granted: true, Source: "support", At: t0().Add(time.Hour)}
	must(t, s.RecordConsent(ctx, regrant))
	got, err = s.LatestConsent(ctx, "k1", channels.WhatsApp, "marketing")
	must(t, err)
	if got != regrant {
		t.Errorf("LatestConsent after a grant at the same time = %+v, want %+v", got, regrant)
	}
	_, err = s.LatestConsent(ctx, "k1", channels.WhatsApp, "utility")
	wantNotFound(t, "LatestConsent of another purpose", err)

	hist, err := s.ConsentHistory(ctx, "k1")
	must(t, err)
	want := []store.Consent{entries[0], entries[3], entries[2], entries[1], regrant}
	if !slices.Equal(hist, want) {
		t.Errorf("ConsentHistory =\n%+v\nwant\n%+v", hist, want)
	}
}

func testSuppressions(t *testing.T, ctx context.Context, s store.Store) {
	optOut := store.Suppression{ContactKey: "k1", Channel: channels.SMS, Reason: store.ReasonOptOut, Source: "inbound keyword STOP", At: t0()}
	invalid := store.Suppression{ContactKey: "k1", Channel: channels.SMS, Reason: store.ReasonInvalidNumber, Source: "twilio 21211", At: t0().Add(time.Minute)}
	bounce := store.Suppression{ContactKey: "k1", Channel: channels.Email, Reason: store.ReasonHardBounce, Source: "sendgrid", At: t0()}
	other := store.Suppression{ContactKey: "k2", Channel: channels.SMS, Reason: store.ReasonOptOut, At: t0()}
	for _, sp := range []store.Suppression{optOut, invalid, bounce, other} {
		must(t, s.Suppress(ctx, sp))
	}
	// Suppressing again for the same reason updates it.
	optOut.Source, optOut.At = "inbound keyword UNSUBSCRIBE", t0().Add(2*time.Minute)
	must(t, s.Suppress(ctx, optOut))

	got, err := s.Suppressions(ctx, "k1")
	must(t, err)
	if want := []store.Suppression{bounce, invalid, optOut}; !slices.Equal(got, want) {
		t.Errorf("Suppressions =\n%+v\nwant\n%+v", got, want)
	}
	must(t, s.Unsuppress(ctx, "k1", channels.SMS, store.ReasonOptOut))
	must(t, s.Unsuppress(ctx, "k1", channels.WhatsApp, store.ReasonOptOut)) // none: no error
	got, err = s.Suppressions(ctx, "k1")
	must(t, err)
	if want := []store.Suppression{bounce, invalid}; !slices.Equal(got, want) {
		t.Errorf("Suppressions after lifting the opt-out =\n%+v\nwant\n%+v", got, want)
	}
	got, err = s.Suppressions(ctx, "nobody")
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Suppressions of a stranger = %+v, want none", got)
	}
}

func testReachability(t *testing.T, ctx context.Context, s store.Store) {
	failed := store.Reachability{ContactKey: "k1", Channel: channels.WhatsApp, Reachable: false, Code: "131026", Reason: "Message undeliverable", At: t0().Add(time.Minute)}
	delivered := store.Reachability{ContactKey: "k1", Channel: channels.SMS, Reachable: true, At: t0()}
	must(t, s.SetReachability(ctx, failed))
	must(t, s.SetReachability(ctx, delivered))
	// An older outcome arriving late changes nothing.
	must(t, s.SetReachability(ctx, store.Reachability{ContactKey: "k1", Channel: channels.WhatsApp, Reachable: true, At: t0()}))
	got, err := s.Reachabilities(ctx, "k1")
	must(t, err)
	if want := []store.Reachability{delivered, failed}; !slices.Equal(got, want) {
		t.Errorf("Reachabilities =\n%+v\nwant\n%+v", got, want)
	}
	// A newer one replaces it.
	wrote := store.Reachability{ContactKey: "k1", Channel: channels.WhatsApp, Reachable: true, Reason: "inbound message", At: t0().Add(time.Hour)}
	must(t, s.SetReachability(ctx, wrote))
	got, err = s.Reachabilities(ctx, "k1")
	must(t, err)
	if want := []store.Reachability{delivered, wrote}; !slices.Equal(got, want) {
		t.Errorf("Reachabilities after a newer outcome =\n%+v\nwant\n%+v", got, want)
	}
}

func testInbound(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.LastInbound(ctx, "k1", channels.WhatsApp)
	wantNotFound(t, "LastInbound before any", err)
	steps := []struct {
		at   time.Time
		want time.Time
	}{
		{t0(), t0()},
		{t0().Add(time.Second), t0().Add(time.Second)},
		{t0(), t0().Add(time.Second)}, // an older message arriving late keeps the window
		{t0().Add(25 * time.Hour), t0().Add(25 * time.Hour)},
	}
	for i, st := range steps {
		must(t, s.RecordInbound(ctx, "k1", channels.WhatsApp, st.at))
		got, err := s.LastInbound(ctx, "k1", channels.WhatsApp)
		must(t, err)
		if !got.Equal(st.want) || got.Location() != time.UTC {
			t.Errorf("step %d: LastInbound = %v, want %v in UTC", i, got, st.want)
		}
	}
	_, err = s.LastInbound(ctx, "k1", channels.SMS)
	wantNotFound(t, "LastInbound on another channel", err)
	// Times come back in UTC whatever zone they went in with.
	must(t, s.RecordInbound(ctx, "k2", channels.SMS, t0().In(time.FixedZone("X", -5*3600))))
	got, err := s.LastInbound(ctx, "k2", channels.SMS)
	must(t, err)
	if got != t0() {
		t.Errorf("LastInbound of a zoned time = %v, want %v", got, t0())
	}
}

// testInboundClaims receives a message, a retry before it is done, a
// replay after, and the same id from another provider.
func testInboundClaims(t *testing.T, ctx context.Context, s store.Store) {
	claim := func(provider string, at time.Time, want store.InboundClaim) {
		t.Helper()
		got, err := s.ClaimInbound(ctx, provider, "SM1", at)
		must(t, err)
		if !got.At.Equal(want.At) || got.At.Location() != time.UTC || got.Done != want.Done {
			t.Errorf("ClaimInbound(%s, SM1, %v) = %+v, want %+v in UTC", provider, at, got, want)
		}
	}
	claim("twilio", t0(), store.InboundClaim{At: t0()})
	// A retry before it was received in full keeps the first time.
	claim("twilio", t0().Add(time.Minute), store.InboundClaim{At: t0()})
	must(t, s.CompleteInbound(ctx, "twilio", "SM1"))
	// A replay, an hour later, is done already and keeps the first time.
	claim("twilio", t0().Add(time.Hour), store.InboundClaim{At: t0(), Done: true})
	claim("whatsapp", t0().Add(time.Hour), store.InboundClaim{At: t0().Add(time.Hour)})
	// Completing a message never claimed is not an error and claims nothing.
	must(t, s.CompleteInbound(ctx, "twilio", "SM2"))
	got, err := s.ClaimInbound(ctx, "twilio", "SM2", t0())
	must(t, err)
	if got.Done {
		t.Errorf("ClaimInbound of a message completed before its claim = %+v, want not done", got)
	}
}

// testMessageContact finds the contact a message went to, and whether a
// contact key is known, from contacts and from message events.
func testMessageContact(t *testing.T, ctx context.Context, s store.Store) {
	_, err := s.MessageContact(ctx, "whatsapp", "wamid.1")
	wantNotFound(t, "MessageContact before any event", err)
	// A skip has no contact key of its own here; the accepted event has.
	skipped := event(store.EventSkipped, t0())
	skipped.Provider, skipped.MessageID, skipped.ContactKey = "whatsapp", "wamid.1", ""
	accepted := event(store.EventAccepted, t0())
	accepted.Provider, accepted.MessageID, accepted.ContactKey = "whatsapp", "wamid.1", "k-sent"
	for _, e := range []store.MessageEvent{skipped, accepted} {
		_, err := s.RecordEvent(ctx, e)
		must(t, err)
	}
	key, err := s.MessageContact(ctx, "whatsapp", "wamid.1")
	must(t, err)
	if key != "k-sent" {
		t.Errorf("MessageContact = %q, want k-sent", key)
	}
	_, err = s.MessageContact(ctx, "twilio", "wamid.1")
	wantNotFound(t, "MessageContact under another provider", err)

	must(t, s.UpsertContact(ctx, store.Contact{Key: "k-imported", Number: "+15551234567"}))
	for key, want := range map[string]bool{"k-sent": true, "k-imported": true, "k-stranger": false, "": false} {
		got, err := s.KnownContact(ctx, key)
		must(t, err)
		if got != want {
			t.Errorf("KnownContact(%q) = %v, want %v", key, got, want)
		}
	}
}

func event(status store.EventStatus, at time.Time) store.MessageEvent {
	return store.MessageEvent{
		Provider: "whatsapp", MessageID: "wamid.1", Status: status,
		Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 1, Channel: channels.WhatsApp,
		Template: "otp_code", ContactKey: "k1", At: at,
	}
}

func testEvents(t *testing.T, ctx context.Context, s store.Store) {
	failed := event(store.EventFailed, t0().Add(2*time.Second))
	failed.ErrorCode, failed.ErrorReason, failed.PricingCategory = "131026", "Message undeliverable", "authentication"
	failed.ReasonClass = store.ClassFailedStatus
	steps := []struct {
		e   store.MessageEvent
		new bool
	}{
		{event(store.EventAccepted, t0()), true},
		{event(store.EventSent, t0().Add(time.Second)), true},
		{event(store.EventSent, t0().Add(3*time.Second)), false}, // the provider's retry
		{failed, true},
		{failed, false},
	}
	for i, st := range steps {
		got, err := s.RecordEvent(ctx, st.e)
		must(t, err)
		if got != st.new {
			t.Errorf("step %d: RecordEvent(%s) new = %v, want %v", i, st.e.Status, got, st.new)
		}
	}
	got, err := s.Events(ctx, store.EventFilter{})
	must(t, err)
	want := []store.MessageEvent{steps[0].e, steps[1].e, failed}
	if !slices.Equal(got, want) {
		t.Errorf("Events =\n%+v\nwant\n%+v", got, want)
	}
}

// testEventReasonClass: every event keeps its reason's class, and an
// event without one reads back without one.
func testEventReasonClass(t *testing.T, ctx context.Context, s store.Store) {
	var want []store.MessageEvent
	for i, class := range []store.ReasonClass{store.ClassTimeout, store.ClassRejected, ""} {
		e := event(store.EventFallback, t0().Add(time.Duration(i)*time.Second))
		e.Provider, e.MessageID, e.Attempt = store.LocalProvider, store.LocalMessageID("otp-1", i+1), i+1
		e.ErrorReason, e.ReasonClass = "why "+string(class), class
		_, err := s.RecordEvent(ctx, e)
		must(t, err)
		want = append(want, e)
	}
	got, err := s.Events(ctx, store.EventFilter{WorkflowID: "otp-1"})
	must(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("Events =\n%+v\nwant\n%+v", got, want)
	}
}

func testEventFilter(t *testing.T, ctx context.Context, s store.Store) {
	a := event(store.EventAccepted, t0())
	b := event(store.EventDelivered, t0().Add(time.Minute))
	c := store.MessageEvent{Provider: store.LocalProvider, MessageID: store.LocalMessageID("cart-1", 1), Status: store.EventSkipped,
		Journey: "cart", WorkflowID: "cart-1", Channel: channels.WhatsApp, ContactKey: "k2", ErrorReason: "no_marketing_consent", ReasonClass: store.ClassNoConsent, At: t0().Add(time.Hour)}
	for _, e := range []store.MessageEvent{c, b, a} {
		_, err := s.RecordEvent(ctx, e)
		must(t, err)
	}
	tests := []struct {
		name string
		f    store.EventFilter
		want []store.MessageEvent
	}{
		{"all", store.EventFilter{}, []store.MessageEvent{a, b, c}},
		{"journey", store.EventFilter{Journey: "otp"}, []store.MessageEvent{a, b}},
		{"workflow", store.EventFilter{WorkflowID: "cart-1"}, []store.MessageEvent{c}},
		{"contact", store.EventFilter{ContactKey: "k1"}, []store.MessageEvent{a, b}},
		{"since inclusive", store.EventFilter{Since: t0().Add(time.Minute)}, []store.MessageEvent{b, c}},
		{"newest", store.EventFilter{Newest: 2}, []store.MessageEvent{b, c}},
		{"combined", store.EventFilter{Journey: "otp", Since: t0().Add(time.Second), Newest: 5}, []store.MessageEvent{b}},
		{"none", store.EventFilter{Journey: "nope"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Events(ctx, tt.f)
		must(t, err)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Events(%+v) =\n%+v\nwant\n%+v", tt.name, tt.f, got, tt.want)
		}
	}
}

func testTemplates(t *testing.T, ctx context.Context, s store.Store) {
	ts, err := s.ListTemplates(ctx)
	must(t, err)
	if len(ts) != 0 {
		t.Fatalf("ListTemplates of a new store = %+v, want none", ts)
	}
	wantNotFound(t, "status of a template before a sync", s.SetTemplateStatus(ctx, "otp", "en_US", store.TemplateStatus{Status: "PAUSED"}))

	otp := store.Template{Name: "otp", Language: "en_US", Category: "AUTHENTICATION", Status: "APPROVED",
		Data: []byte(`{"id":"1","components":[{"type":"BODY","text":"{{1}}","params":1}]}`)}
	otpDE := store.Template{Name: "otp", Language: "de", Category: "AUTHENTICATION", Status: "PENDING", Data: []byte(`{"id":"2"}`)}
	promo := store.Template{Name: "promo", Language: "en_US", Category: "MARKETING", Status: "REJECTED", RejectedReason: "PROMOTIONAL", Data: []byte(`{"id":"3"}`)}
	must(t, s.ReplaceTemplates(ctx, "waba-1", []store.Template{promo, otp, otpDE}, t0()))
	ts, err = s.ListTemplates(ctx)
	must(t, err)
	if len(ts) != 3 || ts[0].Name != "otp" || ts[0].Language != "de" || ts[1].Language != "en_US" || ts[2].Name != "promo" {
		t.Fatalf("ListTemplates = %+v, want otp/de, otp/en_US, promo/en_US", ts)
	}
	got := ts[1]
	if got.Category != "AUTHENTICATION" || got.Status != "APPROVED" || got.WABAID != "waba-1" || !got.SyncedAt.Equal(t0()) {
		t.Errorf("otp/en_US = %+v", got)
	}
	var data struct {
		ID         string `json:"id"`
		Components []struct {
			Text   string `json:"text"`
			Params int    `json:"params"`
		} `json:"components"`
	}
	must(t, json.Unmarshal(got.Data, &data))
	if data.ID != "1" || len(data.Components) != 1 || data.Components[0].Text != "{{1}}" || data.Components[0].Params != 1 {
		t.Errorf("otp/en_US data = %s", got.Data)
	}
	if ts[2].RejectedReason != "PROMOTIONAL" {
		t.Errorf("promo = %+v, want its rejected reason", ts[2])
	}

	// A status update changes one template; an empty category keeps it.
	must(t, s.SetTemplateStatus(ctx, "promo", "en_US", store.TemplateStatus{Status: "APPROVED"}))
	must(t, s.SetTemplateStatus(ctx, "otp", "de", store.TemplateStatus{Status: "REJECTED", Category: "UTILITY", RejectedReason: "INVALID_FORMAT"}))
	wantNotFound(t, "status of an unknown template", s.SetTemplateStatus(ctx, "otp", "fr", store.TemplateStatus{Status: "PAUSED"}))
	ts, err = s.ListTemplates(ctx)
	must(t, err)
	if ts[0].Status != "REJECTED" || ts[0].Category != "UTILITY" || ts[0].RejectedReason != "INVALID_FORMAT" {
		t.Errorf("otp/de after update = %+v", ts[0])
	}
	if ts[1].Status != "APPROVED" {
		t.Errorf("otp/en_US changed: %+v", ts[1])
	}
	if ts[2].Status != "APPROVED" || ts[2].Category != "MARKETING" || ts[2].RejectedReason != "" {
		t.Errorf("promo after update = %+v", ts[2])
	}

	// A sync replaces everything.
	at := t0().Add(time.Hour)
	must(t, s.ReplaceTemplates(ctx, "waba-2", []store.Template{otp}, at))
	ts, err = s.ListTemplates(ctx)
	must(t, err)
	if len(ts) != 1 || ts[0].Name != "otp" || ts[0].Language != "en_US" || ts[0].WABAID != "waba-2" || !ts[0].SyncedAt.Equal(at) {
		t.Errorf("ListTemplates after a second sync = %+v", ts)
	}
	must(t, s.ReplaceTemplates(ctx, "waba-2", nil, at))
	ts, err = s.ListTemplates(ctx)
	must(t, err)
	if len(ts) != 0 {
		t.Errorf("ListTemplates after an empty sync = %+v", ts)
	}
}
