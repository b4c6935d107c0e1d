package webhooks

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// optState is what the store says of the customer's opt-out on a channel.
type optState struct {
	suppressed bool
	// consent is the marketing consent history, oldest first.
	consent []bool
}

func readOptState(t *testing.T, st store.Store, ch channels.Channel) optState {
	t.Helper()
	ctx := context.Background()
	var s optState
	sups, err := st.Suppressions(ctx, customerKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range sups {
		s.suppressed = s.suppressed || (sp.Channel == ch && sp.Reason == store.ReasonOptOut)
	}
	hist, err := st.ConsentHistory(ctx, customerKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range hist {
		s.consent = append(s.consent, c.Granted)
	}
	return s
}

// waText is a WhatsApp text from the customer, sent at Unix second sec.
func waText(id string, sec int64, body string) string {
	return inboundBody(`{"from":"16505551234","id":"` + id + `","timestamp":"` + strconv.FormatInt(sec, 10) +
		`","type":"text","text":{"body":"` + body + `"}}`)
}

// TestKeywordsApplyInMessageOrder delivers WhatsApp keywords out of the
// order the customer sent them: an older keyword never undoes a newer one.
func TestKeywordsApplyInMessageOrder(t *testing.T) {
	const t0 = 1780308000
	tests := []struct {
		name     string
		bodies   []string
		want     optState
		lastWord string // the keyword var of the last reply signalled
	}{
		{"STOP then a late older START", []string{waText("wamid.S", t0+60, "STOP"), waText("wamid.A", t0, "START")},
			optState{true, []bool{false}}, ""},
		{"START then a late older STOP", []string{waText("wamid.S1", t0, "STOP"), waText("wamid.A", t0+120, "START"), waText("wamid.S2", t0+60, "STOP")},
			optState{false, []bool{false, true}}, ""},
		{"in order", []string{waText("wamid.A", t0, "START"), waText("wamid.S", t0+60, "STOP")},
			optState{true, []bool{true, false}}, string(KeywordOptOut)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, fj, st := newInboundHandler(t, time.Unix(t0+3600, 0))
			for _, b := range tt.bodies {
				if w := postWhatsApp(h, b, metaSign(b)); w.Code != 200 {
					t.Fatalf("POST = %d %s", w.Code, w.Body)
				}
			}
			if got := readOptState(t, st, channels.WhatsApp); got.suppressed != tt.want.suppressed || !slices.Equal(got.consent, tt.want.consent) {
				t.Errorf("after %d messages: %+v, want %+v", len(tt.bodies), got, tt.want)
			}
			if n := len(fj.signals); n != 2*len(tt.bodies) {
				t.Fatalf("signals = %d, want one per message and journey", n)
			}
			if got := fj.signals[len(fj.signals)-1].event.Vars["keyword"]; got != tt.lastWord {
				t.Errorf("keyword var of the last message = %q, want %q", got, tt.lastWord)
			}
		})
	}
}

// TestTwilioReplayDoesNothing opts in by SMS, opts out, then replays the
// opt-in request (a Twilio signature has no timestamp): the opt-out
// stays, and the replay reaches no journey. A request refused with 503
// and retried is received, dated as it first arrived.
func TestTwilioReplayDoesNothing(t *testing.T) {
	arrival := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	h, fj, st := newInboundHandler(t, arrival)
	clock := arrival
	h.cfg.Now = func() time.Time { return clock }
	post := func(sid, body string, at time.Time) int {
		t.Helper()
		clock = at
		form := url.Values{"From": {customer}, "To": {"+15017122661"}, "Body": {body}, "MessageSid": {sid}}
		r := httptest.NewRequest("POST", "/webhooks/twilio/inbound", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", twilioSign(publicURL+"/webhooks/twilio/inbound", form))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fj.signalErr = serviceerror.NewUnavailable("down")
	if code := post("SM1", "START", arrival); code != 503 {
		t.Fatalf("START with Temporal down = %d, want 503", code)
	}
	fj.signalErr = nil
	if code := post("SM1", "START", arrival.Add(time.Minute)); code != 200 {
		t.Fatalf("START retried = %d, want 200", code)
	}
	if code := post("SM2", "STOP", arrival.Add(2*time.Minute)); code != 200 {
		t.Fatalf("STOP = %d, want 200", code)
	}
	signals := len(fj.signals)
	if code := post("SM1", "START", arrival.Add(time.Hour)); code != 200 {
		t.Fatalf("replayed START = %d, want 200", code)
	}
	if got, want := readOptState(t, st, channels.SMS), (optState{true, []bool{true, false}}); got.suppressed != want.suppressed || !slices.Equal(got.consent, want.consent) {
		t.Errorf("after the replay: %+v, want %+v", got, want)
	}
	if len(fj.signals) != signals || signals != 4 {
		t.Errorf("signals = %d, then %d after the replay; want 4 and none more", signals, len(fj.signals))
	}
	hist, err := st.ConsentHistory(context.Background(), customerKey())
	if err != nil || len(hist) == 0 || !hist[0].At.Equal(arrival) {
		t.Errorf("consent history = %+v, %v; want the START dated at its first arrival %v", hist, err, arrival)
	}
}
