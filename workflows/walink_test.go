package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// A journey that uses wa_link on a worker without a business number fails
// at its start, naming the setting, and sends nothing.
func TestWALinkWithoutBusinessNumber(t *testing.T) {
	opts := testOptions
	opts.BusinessNumber = ""
	s := newSimWith(t, morning, opts)
	s.checks.register(s.env)
	s.env.ExecuteWorkflow(journeys.WorkflowType, journeys.Input{Journey: builtin(t, "order_update"), To: "+15551234567",
		Vars: map[string]string{"order_id": "A-1"}})
	var appErr *temporal.ApplicationError
	if err := s.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != MissingSettingType || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable %s", err, MissingSettingType)
	}
	if !strings.Contains(appErr.Error(), "WHATSAPP_BUSINESS_NUMBER") {
		t.Errorf("error %q does not name WHATSAPP_BUSINESS_NUMBER", appErr.Error())
	}
	if len(s.sends) != 0 {
		t.Errorf("sent %d messages", len(s.sends))
	}
	// Its timeline says it failed and why, not that it still runs.
	v, err := s.env.QueryWorkflow(QueryTimeline)
	if err != nil {
		t.Fatal(err)
	}
	var tl Timeline
	if err := v.Get(&tl); err != nil {
		t.Fatal(err)
	}
	last := tl.Events[len(tl.Events)-1]
	if tl.Outcome != OutcomeFailed || last.Kind != EventDone || !strings.Contains(last.Reason, "WHATSAPP_BUSINESS_NUMBER") {
		t.Errorf("timeline: outcome %s, last event %+v; want failed, done naming the setting", tl.Outcome, last)
	}
}

// A journey without wa_link runs on such a worker as before.
func TestNoWALinkWithoutBusinessNumber(t *testing.T) {
	opts := testOptions
	opts.BusinessNumber = ""
	s := newSimWith(t, morning, opts)
	res, _ := s.run(journeys.Input{Journey: builtin(t, "otp"), To: "+15551234567", Vars: map[string]string{"code": "123456"}})
	if len(s.sends) == 0 || res.Outcome == "" {
		t.Errorf("otp without a business number: outcome %q, %d sends", res.Outcome, len(s.sends))
	}
}

// order_update's SMS fallback carries the click-to-chat link to the
// worker's business number, with the order in the message.
func TestOrderUpdateSMSCarriesWALink(t *testing.T) {
	s := newSim(t, morning)
	s.fail[channels.WhatsApp] = true
	s.event(time.Minute, "confirmed", nil)
	s.event(time.Hour, "delivered", nil)
	s.run(journeys.Input{Journey: builtin(t, "order_update"), To: "+15551234567", Vars: map[string]string{"order_id": "A-1"}})
	const link = "https://wa.me/15550009999?text=Hi%2C%20about%20order%20A-1"
	sms := 0
	for _, req := range s.sends {
		if req.Message.Channel != channels.SMS {
			continue
		}
		sms++
		if !strings.HasSuffix(req.Message.Text, "WhatsApp us: "+link) {
			t.Errorf("SMS %s = %q, want it to end with %s", req.Step, req.Message.Text, link)
		}
	}
	if sms != 2 {
		t.Errorf("sent %d SMS, want the two fallbacks", sms)
	}
}

// abandoned_cart's email fallback gives its template a chat_url: the
// click-to-chat link to the worker's business number.
func TestAbandonedCartEmailCarriesWALink(t *testing.T) {
	s := newSim(t, morning)
	s.fail[channels.WhatsApp] = true
	s.run(journeys.Input{Journey: builtin(t, "abandoned_cart"), To: "+15551234567", Email: "ana@example.com",
		Vars: map[string]string{"cart_url": "https://shop.example/cart/1"}})
	emails := 0
	for _, req := range s.sends {
		if e := req.Message.Email; req.Message.Channel == channels.Email && e != nil {
			emails++
			if want := "https://wa.me/15550009999?text=Hi%2C%20about%20my%20cart"; e.Data["chat_url"] != want {
				t.Errorf("email %s chat_url = %q, want %s", req.Step, e.Data["chat_url"], want)
			}
		}
	}
	if emails != 2 {
		t.Errorf("sent %d emails, want the two fallbacks", emails)
	}
}
