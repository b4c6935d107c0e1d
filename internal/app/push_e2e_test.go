package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/workflows"
)

const pushJourney = `
name: order_push
purpose: utility
params: [order_id]
steps:
  - send:
      id: notify
      attempts:
        - {channel: push, title: "Order {{.order_id}}", body: "is on its way", data: {order_id: "{{.order_id}}"}, await: accepted, within: 10s}
        - {channel: sms, text: "Order {{.order_id}} is on its way", within: 30s}
`

// A push attempt goes through the push sender to the FCM lookalike of the
// sandbox: accepted when one token takes it, the dead tokens retired from
// the contact; without tokens in the input, those kept with the contact;
// with every token dead, the journey falls back to SMS. Under
// SWITCHBACK_RECORD_HISTORIES the histories are recorded for the replay
// test.
func TestEndToEndPush(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := journeys.Parse("order_push.yaml", []byte(pushJourney), app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	const to = "+15557650001"
	key := journeys.ContactKey([]byte(config.DevContactKey), to)
	dead, good := push.TokenUnregistered+"-e2e-1", "fcm-device-token-e2e-0001"
	if err := s.Store.AddDeviceTokens(ctx, key, []string{dead, good}, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := func(id string, tokens ...string) workflows.Result {
		t.Helper()
		run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{Journey: j, To: to, ID: id, PushTokens: tokens,
			Vars: map[string]string{"order_id": "42"}, ContactKey: []byte(config.DevContactKey)})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.Result
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
			s.WriteHistory(t, id, filepath.Join(dir, "v6-"+id+".json"))
		}
		return res
	}

	res := start("push-1", dead, good)
	if res.Channel != push.Channel || !strings.HasPrefix(res.MessageID, "projects/") || res.Status != channels.StatusAccepted {
		t.Errorf("result %+v, want accepted on push", res)
	}
	ds, err := s.Store.DeviceTokens(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Token != good {
		t.Errorf("stored tokens %v, want only the good one: the dead one is retired", ds)
	}

	if res = start("push-stored"); res.Channel != push.Channel {
		t.Errorf("no tokens given: %+v, want push to the contact's stored token", res)
	}
	res = start("push-2", push.TokenUnregistered+"-e2e-2", push.TokenInvalid+"-e2e-3")
	if res.Channel != channels.SMS {
		t.Errorf("every token dead: %+v, want the journey on sms", res)
	}
}

// A push attempt may await accepted only: FCM sends no receipts.
func TestPushAwaitsAcceptedOnly(t *testing.T) {
	_, err := journeys.Parse("p.yaml", []byte(strings.Replace(pushJourney, "await: accepted", "await: delivered", 1)), app.Channels())
	if err == nil || !strings.Contains(err.Error(), "accepted") {
		t.Errorf("await delivered on push: %v, want an error naming accepted", err)
	}
	if !slices.Equal(push.Driver{}.Awaits(), []channels.Status{channels.StatusAccepted}) {
		t.Error("the driver allows more than accepted")
	}
}
