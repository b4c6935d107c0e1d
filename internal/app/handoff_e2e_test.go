package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels/webhook"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// The example otp_support journey: the code reaches the customer on no
// channel (WhatsApp fails, SMS is undelivered, there is no email), so a
// signed webhook hands the customer to support, without the code. Under
// SWITCHBACK_RECORD_HISTORIES its history is recorded for the replay test.
func TestEndToEndHandoffToSupport(t *testing.T) {
	s := apptest.StartWith(t, apptest.Options{Plaintext: recording()})
	ctx := context.Background()
	j, err := journeys.LoadFile(filepath.Join("..", "..", "docs", "examples", "otp_support.yaml"), app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	const code = "493817"
	run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{Journey: j, To: sandbox.Unreachable, ID: "handoff-1",
		Vars: map[string]string{"code": code, "customer_ref": "cust-77"}, ContactKey: []byte(config.DevContactKey)})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SWITCHBACK_RECORD_HISTORIES"); dir != "" {
		s.WriteHistory(t, "handoff-1", filepath.Join(dir, "v6-otp_support-handoff.json"))
	}
	if res.Outcome != workflows.OutcomeDelivered || res.Channel != webhook.Channel {
		t.Errorf("result %+v: want delivered on the webhook", res)
	}
	got := deliveries(t, "http://"+s.HTTPAddr+app.SandboxPrefix+"/webhook/")
	if len(got) != 1 || !got[0].Verified || got[0].Status != http.StatusOK || got[0].Path != "/hooks/switchback" {
		t.Fatalf("the receiver got %+v: want one signed webhook, answered 200, at the attempt's path", got)
	}
	body := string(got[0].Body)
	if !strings.Contains(body, `"customer_ref":"cust-77"`) || !strings.Contains(body, `"event":"otp_undeliverable"`) || strings.Contains(body, code) {
		t.Errorf("webhook body %s: want the event and the customer's reference, never the code", body)
	}
}

// deliveries lists what the sandbox's webhook receiver at url got.
func deliveries(t *testing.T, url string) []webhook.Delivery {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Deliveries []webhook.Delivery }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return got.Deliveries
}
