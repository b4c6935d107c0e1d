package webhooks

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

const (
	inboundSecret = "inbound-test-key"
	customer      = "+16505551234"
)

func customerKey() string { return journeys.ContactKey([]byte(inboundSecret), customer) }

// eventSignal is one event signal sent.
type eventSignal struct {
	workflowID string
	event      journeys.EventInput
}

// fakeJourneys lists the running journeys of contacts and records event
// signals, or fails them.
type fakeJourneys struct {
	mu sync.Mutex
	// running maps a contact key to its journeys: workflow id → journey name.
	running   map[string]map[string]string
	listErr   error
	signalErr error
	// ended journeys answer NotFound to signals.
	ended   []string
	queries []string
	signals []eventSignal
}

func (f *fakeJourneys) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req.GetQuery())
	if f.listErr != nil {
		return nil, f.listErr
	}
	var resp workflowservice.ListWorkflowExecutionsResponse
	for key, js := range f.running {
		if req.GetQuery() != `SwitchbackContact = "`+key+`" AND ExecutionStatus = "Running"` {
			continue
		}
		for _, id := range slices.Sorted(func(yield func(string) bool) {
			for id := range js {
				if !yield(id) {
					return
				}
			}
		}) {
			p, err := converter.GetDefaultDataConverter().ToPayload(js[id])
			if err != nil {
				return nil, err
			}
			resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
				Execution:        &commonpb.WorkflowExecution{WorkflowId: id},
				SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"SwitchbackJourney": p}},
			})
		}
	}
	return &resp, nil
}

func (f *fakeJourneys) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.signalErr != nil:
		return f.signalErr
	case name != journeys.SignalEvent:
		return errors.New("unexpected signal " + name)
	case slices.Contains(f.ended, workflowID):
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	f.signals = append(f.signals, eventSignal{workflowID, arg.(journeys.EventInput)})
	return nil
}

// newInboundHandler returns a handler whose contact runs the journeys
// otp-1 (otp) and cart-1 (abandoned_cart), and whose clock reads now.
func newInboundHandler(t *testing.T, now time.Time) (*Handler, *fakeJourneys, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fj := &fakeJourneys{running: map[string]map[string]string{customerKey(): {"otp-1": "otp", "cart-1": "abandoned_cart"}}}
	h := New(Config{
		WhatsAppAppSecret: appSecret, WhatsAppVerifyToken: verifyToken,
		TwilioAuthToken: authToken, PublicURL: publicURL,
		Temporal: fj, Journeys: fj, SignalName: "status", Messages: st,
		ContactKey: []byte(inboundSecret), Now: func() time.Time { return now },
	})
	return h, fj, st
}

func TestKeywordsMatch(t *testing.T) {
	def := DefaultKeywords()
	custom := Keywords{OptOut: []string{"PARAR"}, OptIn: []string{"VOLVER"}}
	tests := []struct {
		kw   Keywords
		text string
		want KeywordAction
	}{
		{def, "STOP", KeywordOptOut},
		{def, " stop! ", KeywordOptOut},
		{def, "Stop all", KeywordOptOut},
		{def, "STOPALL", KeywordOptOut},
		{def, "Unsubscribe.", KeywordOptOut},
		{def, "cancel", KeywordOptOut},
		{def, "End", KeywordOptOut},
		{def, "quit", KeywordOptOut},
		{def, "Opt-out", KeywordOptOut},
		{def, "Stop promotions", KeywordOptOut},
		{def, "start", KeywordOptIn},
		{def, "UNSTOP", KeywordOptIn},
		{def, "yes", KeywordNone},
		{def, "please stop texting me", KeywordNone},
		{def, "stopped", KeywordNone},
		{def, "", KeywordNone},
		{def, "🙂", KeywordNone},
		{custom, "¡Parar!", KeywordOptOut},
		{custom, "volver", KeywordOptIn},
		{custom, "STOP", KeywordNone},
	}
	for _, tt := range tests {
		if got := tt.kw.Match(tt.text); got != tt.want {
			t.Errorf("Match(%q) with %v = %q, want %q", tt.text, tt.kw.OptOut, got, tt.want)
		}
	}
}

// inboundBody is a WhatsApp notification carrying one inbound message.
func inboundBody(message string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},` +
		`"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[` + message + `]}}]}]}`
}

func TestWhatsAppInbound(t *testing.T) {
	sent := time.Unix(1749416383, 0).UTC()
	tests := []struct {
		name     string
		message  string
		wantVars map[string]string
	}{
		{"text", `{"from":"16505551234","id":"wamid.T","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}`,
			map[string]string{"kind": "text", "text": "Does it come in another color?", "payload": "", "message_id": "wamid.T"}},
		{"template button", `{"context":{"from":"15550783881","id":"wamid.OURS"},"from":"16505551234","id":"wamid.B","timestamp":"1749416383","type":"button","button":{"payload":"DID_NOT_REQUEST_CODE","text":"I didn't request a code"}}`,
			map[string]string{"kind": "button", "text": "I didn't request a code", "payload": "DID_NOT_REQUEST_CODE", "message_id": "wamid.B"}},
		{"reply button", `{"context":{"from":"15550783881","id":"wamid.OURS"},"from":"16505551234","id":"wamid.R","timestamp":"1749416383","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"change-button","title":"Change"}}}`,
			map[string]string{"kind": "button_reply", "text": "Change", "payload": "change-button", "message_id": "wamid.R"}},
		{"list row", `{"from":"16505551234","id":"wamid.L","timestamp":"1749416383","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"priority_express","title":"Priority Mail Express","description":"Next Day to 2 Days"}}}`,
			map[string]string{"kind": "list_reply", "text": "Priority Mail Express", "payload": "priority_express", "message_id": "wamid.L"}},
		{"image", `{"from":"16505551234","id":"wamid.I","timestamp":"1749416383","type":"image","image":{"id":"123","mime_type":"image/jpeg"}}`,
			map[string]string{"kind": "image", "text": "", "payload": "", "message_id": "wamid.I"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h, fj, st := newInboundHandler(t, sent.Add(time.Minute))
			body := inboundBody(tt.message)
			if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
				t.Fatalf("POST = %d %s", w.Code, w.Body)
			}
			for k, v := range map[string]string{"channel": "whatsapp", "from": customerKey(), "keyword": ""} {
				tt.wantVars[k] = v
			}
			var got []string
			for _, s := range fj.signals {
				got = append(got, s.workflowID)
				want := journeys.EventInput{Name: ReplyEvent, ID: "whatsapp:" + tt.wantVars["message_id"], Vars: tt.wantVars}
				if s.event.Name != want.Name || s.event.ID != want.ID || !mapsEqual(s.event.Vars, want.Vars) {
					t.Errorf("signal to %s = %+v, want %+v", s.workflowID, s.event, want)
				}
			}
			if !slices.Equal(got, []string{"cart-1", "otp-1"}) {
				t.Errorf("signalled %v, want both running journeys", got)
			}
			at, err := st.LastInbound(ctx, customerKey(), channels.WhatsApp)
			if err != nil || !at.Equal(sent) {
				t.Errorf("LastInbound = %v, %v; want the message's time %v", at, err, sent)
			}
			c, err := st.Contact(ctx, customerKey())
			if err != nil || c.Number != customer {
				t.Errorf("Contact = %+v, %v; want number %s", c, err, customer)
			}
			replies, err := st.Events(ctx, store.EventFilter{ContactKey: customerKey()})
			if err != nil {
				t.Fatal(err)
			}
			if len(replies) != 2 || replies[0].Status != store.EventReply || replies[0].Journey == "" {
				t.Errorf("reply events = %+v, want one per journey, named", replies)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestInboundKeywords sends STOP twice (a provider retry), then START, on
// WhatsApp, and checks suppression and consent after each.
func TestInboundKeywords(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	h, fj, st := newInboundHandler(t, now)
	text := func(id, body string) string {
		return inboundBody(`{"from":"16505551234","id":"` + id + `","timestamp":"` + "1780308000" + `","type":"text","text":{"body":"` + body + `"}}`)
	}
	steps := []struct {
		body        string
		wantSup     bool
		wantConsent []bool
	}{
		{text("wamid.1", "Stop"), true, []bool{false}},
		{text("wamid.1", "Stop"), true, []bool{false}}, // retried: nothing more
		{text("wamid.2", "START"), false, []bool{false, true}},
		{text("wamid.3", "start"), false, []bool{false, true}},
	}
	for i, s := range steps {
		if w := postWhatsApp(h, s.body, metaSign(s.body)); w.Code != 200 {
			t.Fatalf("step %d: POST = %d %s", i, w.Code, w.Body)
		}
		sups, err := st.Suppressions(ctx, customerKey())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(sups) == 1 && sups[0].Channel == channels.WhatsApp && sups[0].Reason == store.ReasonOptOut; got != s.wantSup {
			t.Errorf("step %d: suppressions = %+v, want opt-out on whatsapp: %v", i, sups, s.wantSup)
		}
		hist, err := st.ConsentHistory(ctx, customerKey())
		if err != nil {
			t.Fatal(err)
		}
		var got []bool
		for _, c := range hist {
			if c.Channel != channels.WhatsApp || c.Purpose != "marketing" || !strings.HasPrefix(c.Source, "inbound keyword ") {
				t.Errorf("step %d: consent entry %+v", i, c)
			}
			got = append(got, c.Granted)
		}
		if !slices.Equal(got, s.wantConsent) {
			t.Errorf("step %d: consent history = %v, want %v", i, got, s.wantConsent)
		}
	}
	if k := fj.signals[0].event.Vars["keyword"]; k != string(KeywordOptOut) {
		t.Errorf("reply keyword var = %q, want opt_out", k)
	}
}

func TestTwilioInbound(t *testing.T) {
	const path = "/webhooks/twilio/inbound"
	sms := url.Values{"AccountSid": {"AC123"}, "From": {customer}, "To": {"+15017122661"}, "Body": {"STOP"}, "MessageSid": {"SM9"}, "SmsMessageSid": {"SM9"}, "NumMedia": {"0"}}
	wa := url.Values{"From": {"whatsapp:" + customer}, "To": {"whatsapp:+15017122661"}, "Body": {"hi"}, "MessageSid": {"SM10"}}
	noFrom := url.Values{"Body": {"hi"}, "MessageSid": {"SM11"}}
	badFrom := url.Values{"From": {"someone"}, "Body": {"hi"}, "MessageSid": {"SM12"}}
	tests := []struct {
		name        string
		form        url.Values
		sig         string
		listErr     error
		signalErr   error
		ended       []string
		wantCode    int
		wantChannel channels.Channel
		wantSignals int
	}{
		{"sms opt-out", sms, twilioSign(publicURL+path, sms), nil, nil, nil, 200, channels.SMS, 2},
		{"whatsapp through twilio", wa, twilioSign(publicURL+path, wa), nil, nil, nil, 200, channels.WhatsApp, 2},
		{"a journey ended meanwhile", sms, twilioSign(publicURL+path, sms), nil, nil, []string{"otp-1"}, 200, channels.SMS, 1},
		{"bad signature", sms, twilioSign(publicURL+"/other", sms), nil, nil, nil, 403, "", 0},
		{"no sender", noFrom, twilioSign(publicURL+path, noFrom), nil, nil, nil, 400, "", 0},
		{"sender not a number", badFrom, twilioSign(publicURL+path, badFrom), nil, nil, nil, 400, "", 0},
		{"visibility down", sms, twilioSign(publicURL+path, sms), serviceerror.NewUnavailable("down"), nil, nil, 503, channels.SMS, 0},
		{"temporal down", sms, twilioSign(publicURL+path, sms), nil, serviceerror.NewUnavailable("down"), nil, 503, channels.SMS, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
			h, fj, st := newInboundHandler(t, now)
			fj.listErr, fj.signalErr, fj.ended = tt.listErr, tt.signalErr, tt.ended
			r := httptest.NewRequest("POST", path, strings.NewReader(tt.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", tt.sig)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("POST = %d %s, want %d", w.Code, w.Body, tt.wantCode)
			}
			if len(fj.signals) != tt.wantSignals {
				t.Errorf("signals = %d, want %d", len(fj.signals), tt.wantSignals)
			}
			if tt.wantCode == 200 && !strings.Contains(w.Body.String(), "<Response>") {
				t.Errorf("body = %q, want empty TwiML", w.Body)
			}
			at, err := st.LastInbound(context.Background(), customerKey(), tt.wantChannel)
			if tt.wantChannel == "" {
				if err == nil {
					t.Errorf("inbound recorded for a refused request")
				}
				return
			}
			if err != nil || !at.Equal(now) {
				t.Errorf("LastInbound on %s = %v, %v; want %v", tt.wantChannel, at, err, now)
			}
		})
	}
}

// TestInboundOpensWindow is the path of a session reply: refused by
// eligibility before the customer writes, allowed after, and closed again
// 24 hours later.
func TestInboundOpensWindow(t *testing.T) {
	ctx := context.Background()
	wrote := time.Unix(1780308000, 0).UTC()
	now := wrote.Add(-time.Hour)
	h, _, st := newInboundHandler(t, now)
	acts := &activities.Activities{Messages: st, ContactKey: []byte(inboundSecret), Now: func() time.Time { return now }}
	req := activities.EligibilityRequest{Journey: "support", Purpose: journeys.Utility, Channel: channels.WhatsApp, To: customer, Session: true}
	check := func(when string, want activities.Eligibility) {
		t.Helper()
		got, err := acts.CheckEligibility(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: eligibility = %+v, want %+v", when, got, want)
		}
	}
	check("before the customer writes", activities.Eligibility{Reason: activities.ReasonWindowClosed, Class: store.ClassWindowClosed})
	body := inboundBody(`{"from":"16505551234","id":"wamid.W","timestamp":"1780308000","type":"text","text":{"body":"Hello?"}}`)
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	now = wrote.Add(time.Minute)
	check("after", activities.Eligibility{Allowed: true})
	now = wrote.Add(activities.ServiceWindow)
	check("24 hours later", activities.Eligibility{Reason: activities.ReasonWindowClosed, Class: store.ClassWindowClosed})
}

// TestSuppressFromSendGrid records SendGrid events for an address that
// two contacts share, and checks the suppressions of the address and
// that eligibility skips email to either contact.
func TestSuppressFromSendGrid(t *testing.T) {
	const shared = "ana@example.com"
	addrKey := journeys.ContactKey([]byte(inboundSecret), shared)
	tests := []struct {
		name string
		evs  []email.Event
		want []store.SuppressionReason
	}{
		{"spam report", []email.Event{{Kind: email.EventSpamReport, Email: "ANA@example.com ", Timestamp: 1780308000}}, []store.SuppressionReason{store.ReasonSpamReport}},
		{"unsubscribe", []email.Event{{Kind: email.EventUnsubscribe, Email: shared}}, []store.SuppressionReason{store.ReasonUnsubscribe}},
		{"hard bounce", []email.Event{{Kind: email.EventBounce, BounceType: "bounce", Email: shared}}, []store.SuppressionReason{store.ReasonHardBounce}},
		{"blocked bounce passes", []email.Event{{Kind: email.EventBounce, BounceType: "blocked", Email: shared}}, nil},
		{"delivered says nothing", []email.Event{{Kind: email.EventDelivered, Email: shared}}, nil},
		{"group resubscribe lifts", []email.Event{{Kind: email.EventGroupUnsubscribe, Email: shared}, {Kind: email.EventGroupResubscribe, Email: shared}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
			h, _, st := newInboundHandler(t, now)
			numbers := []string{"+15550001111", "+15550002222"}
			for _, n := range numbers {
				if err := st.UpsertContact(ctx, store.Contact{Key: journeys.ContactKey([]byte(inboundSecret), n), Number: n, Email: shared}); err != nil {
					t.Fatal(err)
				}
			}
			for _, ev := range tt.evs {
				if err := h.SuppressFromSendGrid(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			sups, err := st.Suppressions(ctx, addrKey)
			if err != nil {
				t.Fatal(err)
			}
			var got []store.SuppressionReason
			for _, s := range sups {
				if s.Channel != channels.Email {
					t.Errorf("suppression on %s, want email", s.Channel)
				}
				got = append(got, s.Reason)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("suppressions of the address = %v, want %v", got, tt.want)
			}
			acts := &activities.Activities{Messages: st, ContactKey: []byte(inboundSecret), Now: func() time.Time { return now }}
			for _, n := range numbers {
				el, err := acts.CheckEligibility(ctx, activities.EligibilityRequest{Journey: "receipt", Purpose: journeys.Utility,
					Channel: channels.Email, To: n, Email: shared})
				if err != nil {
					t.Fatal(err)
				}
				if el.Allowed != (tt.want == nil) {
					t.Errorf("email to the contact %s: eligibility = %+v, want allowed %v", n, el, tt.want == nil)
				}
			}
		})
	}
}

// TestResubscribeLiftsOldSuppression lifts an unsubscribe that an earlier
// version recorded under the first contact with the address.
func TestResubscribeLiftsOldSuppression(t *testing.T) {
	ctx := context.Background()
	h, _, st := newInboundHandler(t, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	key := journeys.ContactKey([]byte(inboundSecret), "+15550001111")
	if err := st.UpsertContact(ctx, store.Contact{Key: key, Number: "+15550001111", Email: "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	old := store.Suppression{ContactKey: key, Channel: channels.Email, Reason: store.ReasonUnsubscribe, Source: "sendgrid group_unsubscribe", At: time.Now()}
	if err := st.Suppress(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := h.SuppressFromSendGrid(ctx, email.Event{Kind: email.EventGroupResubscribe, Email: "Ana@Example.com"}); err != nil {
		t.Fatal(err)
	}
	if sups, err := st.Suppressions(ctx, key); err != nil || len(sups) != 0 {
		t.Errorf("suppressions of the contact after resubscribing = %+v, %v; want none", sups, err)
	}
}
