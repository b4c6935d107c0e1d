package activities

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// TestCheckEligibilityDevices: an attempt on push gets the contact's
// stored tokens, the latest first; an unreachable outcome counts until a
// token is added after it.
func TestCheckEligibilityDevices(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	a, st := newTestActivities(t, now)
	a.Channels = channels.MustRegistry(whatsapp.Driver{}, push.Driver{})
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(ch channels.Channel) Eligibility {
		t.Helper()
		el, err := a.CheckEligibility(ctx, EligibilityRequest{Journey: "j", Purpose: journeys.Utility, Channel: ch, To: testNumber})
		must(err)
		if !el.Allowed {
			t.Fatalf("%s: not allowed: %+v", ch, el)
		}
		return el
	}
	if el := check(push.Channel); len(el.Devices) != 0 {
		t.Errorf("no tokens stored: devices %v", el.Devices)
	}
	must(st.AddDeviceTokens(ctx, key, []string{"tok-old"}, now.Add(-3*time.Hour)))
	must(st.AddDeviceTokens(ctx, key, []string{"tok-new"}, now.Add(-2*time.Hour)))
	must(st.SetReachability(ctx, store.Reachability{ContactKey: key, Channel: push.Channel, Code: "UNREGISTERED", Reason: "every device token (1) is no longer valid", At: now.Add(-time.Hour)}))
	el := check(push.Channel)
	if want := []string{"tok-new", "tok-old"}; !slices.Equal(el.Devices, want) {
		t.Errorf("devices %v, want %v", el.Devices, want)
	}
	if el.Unreachable != "UNREGISTERED: every device token (1) is no longer valid" {
		t.Errorf("unreachable %q, want UNREGISTERED: no token was added since", el.Unreachable)
	}
	if el := check(channels.WhatsApp); el.Devices != nil {
		t.Errorf("whatsapp attempt got devices %v", el.Devices)
	}
	must(st.AddDeviceTokens(ctx, key, []string{"tok-reinstalled"}, now.Add(-time.Minute)))
	if el := check(push.Channel); el.Unreachable != "" || len(el.Devices) != 3 {
		t.Errorf("after a new token: %+v, want 3 devices and no unreachable advice", el)
	}
}

// TestSendRetiresTokens sends through the real push sender to its
// lookalike: the tokens FCM calls invalid leave the store, and the
// journey's result carries none.
func TestSendRetiresTokens(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	a, st := newTestActivities(t, now)
	a.Channels = channels.MustRegistry(push.Driver{})
	mux := http.NewServeMux()
	mux.Handle("/push/", http.StripPrefix("/push", push.Driver{}.Sandbox()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sender, err := push.Driver{}.NewSender(channels.Env{Sandbox: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a.Senders = map[channels.Channel]channels.Sender{push.Channel: sender}
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	dead1, dead2, good := push.TokenUnregistered+"-1", push.TokenInvalid+"-2", "device-token-good-1"
	if err := st.AddDeviceTokens(ctx, key, []string{dead1, dead2, good}, now); err != nil {
		t.Fatal(err)
	}
	send := func(tokens ...string) (channels.SendResult, error) {
		msg := channels.Message{Channel: push.Channel, Devices: tokens, Payload: json.RawMessage(`{"title":"t","body":"b"}`),
			Correlation: channels.Correlation{WorkflowID: "wf-1", Attempt: 1}}
		return a.SendMessage(ctx, SendRequest{Journey: "j", Step: "s", Message: msg})
	}
	tokens := func() []string {
		ds, err := st.DeviceTokens(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Token)
		}
		slices.Sort(out)
		return out
	}

	res, err := send(dead1, good)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retired != nil || res.MessageID == "" {
		t.Errorf("result %+v: want a message id and no tokens", res)
	}
	if got, want := tokens(), []string{good, dead2}; !slices.Equal(got, want) {
		t.Errorf("tokens after an accepted send: %v, want %v", got, want)
	}

	_, err = send(dead2)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !ae.NonRetryable() {
		t.Fatalf("send to a dead token: %v, want a non-retryable application error", err)
	}
	if got, want := tokens(), []string{good}; !slices.Equal(got, want) {
		t.Errorf("tokens after a refused send: %v, want %v", got, want)
	}
}
