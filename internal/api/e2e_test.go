package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
)

// stackAPI starts a Switchback stack and the API on its Temporal client.
func stackAPI(t *testing.T) (*apptest.Stack, *httptest.Server, *conformance) {
	t.Helper()
	s := apptest.Start(t)
	c := newConformance(t, api.New(api.Options{
		Client: s.Client, DataConverter: s.DataConverter, Token: "secret", ContactKey: []byte(config.DevContactKey), Timeout: 30 * time.Second,
		Events: s.Store,
	}))
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return s, srv, c
}

// sentTo counts the sandbox sends to the phone number to (given in E.164).
func sentTo(sb *sandbox.Sandbox, to string) int {
	n := 0
	for _, m := range sb.Sent() {
		if strings.TrimPrefix(m.To, "+") == strings.TrimPrefix(to, "+") {
			n++
		}
	}
	return n
}

func settle(t *testing.T, s *apptest.Stack, id string) journeys.Timeline {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tl, err := journeys.WaitSettled(ctx, s.Client, id, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// waitEnded waits until the journey id has ended.
func waitEnded(t *testing.T, s *apptest.Stack, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = s.Client.GetWorkflow(ctx, id, "").Get(ctx, nil)
}

// TestStartIdempotent starts the otp journey twice with one key: one
// journey, one send; the same key with another request is refused.
func TestStartIdempotent(t *testing.T) {
	s, h, checked := stackAPI(t)
	const to = "+15551230001"
	body := fmt.Sprintf(`{"journey":"otp","to":%q,"vars":{"code":"493817"}}`, to)
	key := map[string]string{"Idempotency-Key": "signup-42"}

	first := do(t, h, call{method: "POST", path: "/v1/journeys", body: body, header: key})
	var started api.StartResponse
	first.decode(t, &started)
	if first.status != http.StatusCreated || started.ID != "signup-42" || !started.Created || started.RunID == "" {
		t.Fatalf("first start: %d %s", first.status, first.body)
	}
	if loc := first.header.Get("Location"); loc != "/v1/journeys/signup-42" {
		t.Errorf("Location %q", loc)
	}
	// The code has gone out once the journey awaits verification.
	if tl := settle(t, s, started.ID); !strings.HasPrefix(tl.Awaiting, "verification") {
		t.Fatalf("journey %s: %+v", started.ID, tl)
	}

	// The same request again: the same journey, nothing sent. Field order
	// and spacing do not matter.
	again := do(t, h, call{method: "POST", path: "/v1/journeys", header: key,
		body: fmt.Sprintf(`{ "vars": {"code": "493817"}, "to": %q, "journey": "otp" }`, to)})
	var repeated api.StartResponse
	again.decode(t, &repeated)
	if again.status != http.StatusOK || repeated != (api.StartResponse{ID: started.ID, RunID: started.RunID, Created: false}) {
		t.Fatalf("repeated start: %d %s, want 200 %+v with created false", again.status, again.body, started)
	}
	if n := sentTo(s.Sandbox, to); n != 1 {
		t.Errorf("%d sends to %s, want 1", n, to)
	}

	// The same key with another request: refused, nothing started.
	for _, other := range []string{
		fmt.Sprintf(`{"journey":"otp","to":%q,"vars":{"code":"111111"}}`, to),
		`{"journey":"otp","to":"+15551230002","vars":{"code":"493817"}}`,
		fmt.Sprintf(`{"journey":"otp","to":%q,"email":"a@example.com","vars":{"code":"493817"}}`, to),
		fmt.Sprintf(`{"journey":"otp","to":%q,"push_tokens":["fcm-token-1"],"vars":{"code":"493817"}}`, to),
		fmt.Sprintf(`{"journey":"order_update","to":%q,"vars":{"order_id":"493817"}}`, to),
	} {
		a := do(t, h, call{method: "POST", path: "/v1/journeys", body: other, header: key})
		if a.status != http.StatusConflict || a.code(t) != api.CodeIdempotencyKeyReused {
			t.Errorf("%s: %d %s, want 409 %s", other, a.status, a.body, api.CodeIdempotencyKeyReused)
		}
	}
	if n := sentTo(s.Sandbox, "+15551230002"); n != 0 {
		t.Errorf("a refused start sent %d messages", n)
	}

	// Without a key, each start is a new journey.
	ids := map[string]bool{}
	for range 2 {
		a := do(t, h, call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551230003","vars":{"code":"493817"}}`})
		var r api.StartResponse
		a.decode(t, &r)
		if a.status != http.StatusCreated || !r.Created || !strings.HasPrefix(r.ID, "otp-") {
			t.Fatalf("start without a key: %d %s", a.status, a.body)
		}
		ids[r.ID] = true
	}
	if len(ids) != 2 {
		t.Errorf("two starts without a key gave ids %v", ids)
	}
	t.Logf("answers checked against openapi.json: %v", checked.seen())
}

// TestVerifyAndTimeline verifies an otp code through the API, wrong then
// right, and reads the timeline.
func TestVerifyAndTimeline(t *testing.T) {
	s, h, checked := stackAPI(t)
	a := do(t, h, call{method: "POST", path: "/v1/journeys", body: `{"journey":"otp","to":"+15551230010","vars":{"code":"493817"}}`,
		header: map[string]string{"Idempotency-Key": "otp-verify"}})
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	settle(t, s, "otp-verify")

	tests := []struct {
		code string
		want api.VerifyResponse
	}{
		{"000000", api.VerifyResponse{ID: "otp-verify", VerifyResult: journeys.VerifyResult{Verified: false, Remaining: 4}}},
		{"111111", api.VerifyResponse{ID: "otp-verify", VerifyResult: journeys.VerifyResult{Verified: false, Remaining: 3}}},
		{"493817", api.VerifyResponse{ID: "otp-verify", VerifyResult: journeys.VerifyResult{Verified: true, Remaining: 2}}},
	}
	for _, tc := range tests {
		a := do(t, h, call{method: "POST", path: "/v1/journeys/otp-verify/verify", body: fmt.Sprintf(`{"code":%q}`, tc.code)})
		var got api.VerifyResponse
		a.decode(t, &got)
		if a.status != http.StatusOK || got != tc.want {
			t.Fatalf("verify %s: %d %s, want 200 %+v", tc.code, a.status, a.body, tc.want)
		}
	}
	waitEnded(t, s, "otp-verify")

	a = do(t, h, call{method: "GET", path: "/v1/journeys/otp-verify"})
	var tl api.TimelineResponse
	a.decode(t, &tl)
	if a.status != http.StatusOK || tl.ID != "otp-verify" || tl.Journey != "otp" || tl.Outcome != journeys.OutcomeVerified {
		t.Fatalf("timeline: %d %s", a.status, a.body)
	}
	var verifies int
	for _, ev := range tl.Events {
		if ev.Kind == journeys.EventVerify {
			verifies++
		}
	}
	if verifies != 3 {
		t.Errorf("timeline has %d verify events, want 3: %s", verifies, a.body)
	}
	// The journey took delivered; the webhooks recorded sent and read
	// instead, and the timeline shows them from the event log.
	statuses := map[channels.Status]bool{}
	for _, ev := range tl.Events {
		if ev.Kind == journeys.EventStatus {
			statuses[ev.Status] = ev.Reason == journeys.RecordedReason
		}
	}
	if want := map[channels.Status]bool{channels.StatusSent: true, channels.StatusDelivered: false, channels.StatusRead: true}; !maps.Equal(statuses, want) {
		t.Errorf("timeline statuses (recorded by the webhooks: true) %v, want %v", statuses, want)
	}

	// The journey has ended: a check is refused, and so is a cancel.
	for _, c := range []call{
		{method: "POST", path: "/v1/journeys/otp-verify/verify", body: `{"code":"493817"}`},
		{method: "POST", path: "/v1/journeys/otp-verify/events", body: `{"name":"hello"}`},
		{method: "DELETE", path: "/v1/journeys/otp-verify"},
	} {
		a := do(t, h, c)
		if a.status != http.StatusUnprocessableEntity || a.code(t) != api.CodeJourneyEnded || !strings.Contains(string(a.body), "has ended (outcome verified)") {
			t.Errorf("%s %s after the end: %d %s, want 422 %s", c.method, c.path, a.status, a.body, api.CodeJourneyEnded)
		}
	}
	t.Logf("answers checked against openapi.json: %v", checked.seen())
}

// An event with start reaches a journey that was not running: it starts
// it (signal-with-start), once however often it is sent, and a bad start
// names its field.
func TestEventStartsJourney(t *testing.T) {
	s, h, checked := stackAPI(t)
	const id, to = "order-2002", "+15551230021"
	body := fmt.Sprintf(`{"name":"confirmed","id":"evt-1","start":{"journey":"order_update","to":%q,"vars":{"order_id":"2002"}}}`, to)
	for range 2 {
		a := do(t, h, call{method: "POST", path: "/v1/journeys/" + id + "/events", body: body})
		if a.status != http.StatusAccepted {
			t.Fatalf("event with start: %d %s", a.status, a.body)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for sentTo(s.Sandbox, to) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no send after the confirmed event started the journey")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tl := timeline(t, h, id)
	var started, received int
	for _, e := range tl.Events {
		switch {
		case e.Kind == journeys.EventStarted:
			started++
		case e.Kind == journeys.EventReceived && e.Name == "confirmed":
			received++
		}
	}
	if started != 1 || received != 1 {
		t.Errorf("timeline has %d starts and %d confirmed events, want 1 and 1 (the repeat is deduplicated): %+v", started, received, tl.Events)
	}

	a := do(t, h, call{method: "POST", path: "/v1/journeys/order-2003/events", body: `{"name":"confirmed","start":{"journey":"order_update","to":"+15551230022"}}`})
	if a.status != http.StatusBadRequest || a.code(t) != api.CodeMissingField || !strings.Contains(string(a.body), "start: journey") || !strings.Contains(string(a.body), "vars.order_id") {
		t.Errorf("event with a start lacking order_id: %d %s, want 400 %s naming start and vars.order_id", a.status, a.body, api.CodeMissingField)
	}
	t.Logf("answers checked against openapi.json: %v", checked.seen())
}

// TestEventsAndCancel steers an order_update journey: an event, a verify
// it does not take, a cancel, and calls on an id that does not exist.
func TestEventsAndCancel(t *testing.T) {
	s, h, checked := stackAPI(t)
	const id = "order-1001"
	a := do(t, h, call{method: "POST", path: "/v1/journeys", body: `{"journey":"order_update","to":"+15551230020","vars":{"order_id":"1001"}}`,
		header: map[string]string{"Idempotency-Key": id}})
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}

	a = do(t, h, call{method: "POST", path: "/v1/journeys/" + id + "/events", body: `{"name":"confirmed","id":"evt-1"}`})
	var ev api.EventResponse
	a.decode(t, &ev)
	if a.status != http.StatusAccepted || ev != (api.EventResponse{ID: id, Name: "confirmed"}) {
		t.Fatalf("event: %d %s", a.status, a.body)
	}
	// The journey has heard it: the confirmation goes out.
	deadline := time.Now().Add(time.Minute)
	for sentTo(s.Sandbox, "+15551230020") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no send after the confirmed event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tl := timeline(t, h, id)
	if !slices.ContainsFunc(tl.Events, func(e journeys.Event) bool { return e.Kind == journeys.EventReceived && e.Name == "confirmed" }) {
		t.Errorf("timeline lacks the event: %+v", tl.Events)
	}

	// An event the journey would ignore is refused, and never reaches it.
	a = do(t, h, call{method: "POST", path: "/v1/journeys/" + id + "/events", body: `{"name":"shipped","vars":{"carrier":"x"}}`})
	if a.status != http.StatusUnprocessableEntity || a.code(t) != api.CodeEventIgnored || !strings.Contains(string(a.body), "vars.tracking_url") {
		t.Errorf("shipped without tracking_url: %d %s, want 422 %s naming vars.tracking_url", a.status, a.body, api.CodeEventIgnored)
	}
	if tl := timeline(t, h, id); slices.ContainsFunc(tl.Events, func(e journeys.Event) bool { return e.Name == "shipped" }) {
		t.Errorf("a refused event reached the journey: %+v", tl.Events)
	}

	a = do(t, h, call{method: "POST", path: "/v1/journeys/" + id + "/verify", body: `{"code":"1001"}`})
	if a.status != http.StatusUnprocessableEntity || a.code(t) != api.CodeNotVerifiable {
		t.Errorf("verify on order_update: %d %s, want 422 %s", a.status, a.body, api.CodeNotVerifiable)
	}

	// Cancel, and cancel again: both accepted.
	for range 2 {
		a = do(t, h, call{method: "DELETE", path: "/v1/journeys/" + id})
		var cr api.CancelResponse
		a.decode(t, &cr)
		if a.status != http.StatusAccepted || cr != (api.CancelResponse{ID: id, CancelRequested: true}) {
			t.Fatalf("cancel: %d %s", a.status, a.body)
		}
		waitEnded(t, s, id)
	}
	if tl := timeline(t, h, id); tl.Outcome != journeys.OutcomeCanceled {
		t.Errorf("outcome after cancel: %s", tl.Outcome)
	}

	// A workflow of another type, running in the namespace (no worker
	// polls its queue), is no journey to the API.
	if _, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "no-billing", TaskQueue: "billing"}, "Billing"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []call{
		{method: "DELETE", path: "/v1/journeys/no-billing"},
		{method: "POST", path: "/v1/journeys/no-billing/events", body: `{"name":"confirmed"}`},
		{method: "POST", path: "/v1/journeys/no-billing/events", body: `{"name":"confirmed","start":{"journey":"order_update","to":"+15551230020","vars":{"order_id":"9"}}}`},
		{method: "POST", path: "/v1/journeys/no-billing/verify", body: `{"code":"1"}`},
		{method: "GET", path: "/v1/journeys/no-such-journey"},
		{method: "DELETE", path: "/v1/journeys/no-such-journey"},
		{method: "POST", path: "/v1/journeys/no-such-journey/events", body: `{"name":"confirmed"}`},
		{method: "POST", path: "/v1/journeys/no-such-journey/verify", body: `{"code":"1"}`},
		{method: "GET", path: "/v1/journeys/no%2Fsuch"},
	} {
		a := do(t, h, c)
		if a.status != http.StatusNotFound || a.code(t) != api.CodeJourneyNotFound || !strings.Contains(string(a.body), `"no`) {
			t.Errorf("%s %s: %d %s, want 404 %s naming the id", c.method, c.path, a.status, a.body, api.CodeJourneyNotFound)
		}
	}
	if d, err := s.Client.DescribeWorkflowExecution(context.Background(), "no-billing", ""); err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("the other workflow after the calls: %v, %v; want it running, untouched", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	t.Logf("answers checked against openapi.json: %v", checked.seen())
}

func timeline(t *testing.T, h *httptest.Server, id string) api.TimelineResponse {
	t.Helper()
	a := do(t, h, call{method: "GET", path: "/v1/journeys/" + id})
	var tl api.TimelineResponse
	a.decode(t, &tl)
	if a.status != http.StatusOK {
		t.Fatalf("timeline of %s: %d %s", id, a.status, a.body)
	}
	return tl
}

// TestStartIdempotentEncrypted repeats a start when payloads are encrypted:
// the API reads the first start's input through the client's codec.
func TestStartIdempotentEncrypted(t *testing.T) {
	s := apptest.Start(t)
	withCodec := serve(t, api.New(api.Options{Client: s.Client, DataConverter: s.DataConverter, Token: "secret", ContactKey: []byte(config.DevContactKey)}))
	withoutCodec := serve(t, api.New(api.Options{Client: s.Client, Token: "secret", ContactKey: []byte(config.DevContactKey)}))
	body := `{"journey":"otp","to":"+15551230030","vars":{"code":"493817"}}`
	key := map[string]string{"Idempotency-Key": "enc-1"}
	tests := []struct {
		name   string
		srv    *httptest.Server
		body   string
		status int
		code   string
	}{
		{"first", withCodec, body, http.StatusCreated, ""},
		{"same", withCodec, body, http.StatusOK, ""},
		{"different", withCodec, `{"journey":"otp","to":"+15551230030","vars":{"code":"000000"}}`, http.StatusConflict, api.CodeIdempotencyKeyReused},
		// A missing converter is a configuration error, never a silent 409.
		{"same, no codec", withoutCodec, body, http.StatusInternalServerError, api.CodeInternal},
	}
	for _, tc := range tests {
		a := do(t, tc.srv, call{method: "POST", path: "/v1/journeys", body: tc.body, header: key})
		if a.status != tc.status || a.code(t) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
}
