package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/webhooks"
	"github.com/switchbackhq/switchback/workflows"
)

// A customer not reached on WhatsApp gets order_update's SMS with a
// click-to-chat link to the sandbox's business number; the message they
// send from it reaches the running journey as a reply.
func TestEndToEndWALinkInSMSFallback(t *testing.T) {
	s := apptest.Start(t)
	ctx := context.Background()
	j, err := journeys.Builtin("order_update", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	const id, customer = "order-W-1", sandbox.WhatsAppUndeliverable
	opts := journeys.StartOptions{Journey: j, To: customer, Vars: map[string]string{"order_id": "W-1"}, ID: id, ContactKey: []byte(config.DevContactKey)}
	run, err := journeys.SignalWithStart(ctx, s.Client, opts, journeys.EventInput{Name: "confirmed", ID: "evt-1"})
	if err != nil {
		t.Fatal(err)
	}
	sms := waitFor(t, "the SMS fallback", func() (sandbox.SentMessage, bool) {
		for _, m := range s.Sandbox.Sent() {
			if m.Type == "sms" {
				return m, true
			}
		}
		return sandbox.SentMessage{}, false
	})
	link := "https://wa.me/" + strings.TrimPrefix(app.SandboxBusinessNumber, "+") + "?text=Hi%2C%20about%20order%20W-1"
	if !strings.Contains(sms.Body, link) {
		t.Errorf("SMS body %q lacks the click-to-chat link %s", sms.Body, link)
	}
	if err := s.Sandbox.CustomerWrites(ctx, customer, "Hi, about order W-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply in the timeline", func() (bool, bool) {
		tl, err := journeys.GetTimeline(ctx, s.Client, id)
		if err != nil {
			return false, false
		}
		for _, ev := range tl.Events {
			if ev.Kind == workflows.EventReceived && ev.Name == webhooks.ReplyEvent {
				return true, true
			}
		}
		return false, false
	})
	if err := journeys.Signal(ctx, s.Client, id, journeys.EventInput{Name: "cancelled", ID: "evt-2"}); err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls check for up to 10 s and returns its value once ok.
func waitFor[T any](t *testing.T, what string, check func() (T, bool)) T {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if v, ok := check(); ok {
			return v
		}
	}
	t.Fatalf("no %s within 10s", what)
	var zero T
	return zero
}
