package workflows

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/channels"
)

// The validator does not run on replay, and two checks in one workflow
// task both pass it before either handler runs: the handler holds the
// limits itself. Here it is called as if the validator had let each check
// through.
func TestVerifyHandlerHoldsTheLimits(t *testing.T) {
	const code = "493817"
	tests := []struct {
		name  string
		state func(vs *verifyState, r *run)
		want  string
	}{
		{"checks left", func(*verifyState, *run) {}, "verified=true remaining=0"},
		{"no checks left", func(vs *verifyState, _ *run) { vs.attempts = vs.max }, "refused: no checks left: 3 wrong codes"},
		{"already verified", func(vs *verifyState, _ *run) { vs.verified = true }, "refused: the code was already verified"},
		{"expired", func(vs *verifyState, _ *run) { vs.until = morning }, "refused: the code has expired"},
		{"journey ended", func(_ *verifyState, r *run) { r.end = &ending{outcome: OutcomeExpired} }, "refused: the journey has ended (expired)"},
		{"unguarded (journeys started before the guard)", func(vs *verifyState, _ *run) { vs.attempts, vs.guarded = vs.max, false }, "verified=true remaining=-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetStartTime(morning.Add(time.Minute))
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
				r := &run{cfg: New(testOptions), exec: execution{workflowID: "otp-1"}, inbox: inbox{wake: workflow.NewBufferedChannel(ctx, 1)}}
				r.verify = &verifyState{hash: r.codeHash(code), attempts: 2, max: 3, until: morning.Add(time.Hour), guarded: true}
				tt.state(r.verify, r)
				res, err := r.checkCode(ctx, code)
				if err != nil {
					return "refused: " + err.Error(), nil
				}
				return fmt.Sprintf("verified=%v remaining=%d", res.Verified, res.Remaining), nil
			}, workflow.RegisterOptions{Name: "check"})
			env.ExecuteWorkflow("check")
			var got string
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("check = %q, want %q", got, tt.want)
			}
		})
	}
}

// The hash of a code is keyed: another worker key gives another hash, and
// neither is the plain hash of the code nor its HMAC under the contact key
// itself.
func TestCodeHashIsKeyed(t *testing.T) {
	hash := func(key, id, code string) []byte {
		r := &run{cfg: New(Options{ContactKey: []byte(key)}), exec: execution{workflowID: id}}
		return r.codeHash(code)
	}
	a := hash("key one", "otp-1", "493817")
	if !bytes.Equal(a, hash("key one", "otp-1", "493817")) {
		t.Fatal("the same key, journey and code gave two hashes")
	}
	plain := sha256.Sum256([]byte("otp-1\x00493817"))
	m := hmac.New(sha256.New, []byte("key one"))
	m.Write([]byte("otp-1\x00493817"))
	for name, other := range map[string][]byte{
		"another key":                hash("key two", "otp-1", "493817"),
		"another journey":            hash("key one", "otp-2", "493817"),
		"another code":               hash("key one", "otp-1", "493818"),
		"unkeyed SHA-256":            plain[:],
		"HMAC under the contact key": m.Sum(nil),
	} {
		if bytes.Equal(a, other) {
			t.Errorf("hash equals the one with %s", name)
		}
	}
}

// A journey that ends (verified) in the workflow task where its attempt's
// delivery arrives takes that message as its delivery; a message only
// accepted is not one.
func TestEndAdoptsTheDeliveryDrainedWithIt(t *testing.T) {
	for _, tt := range []struct {
		status channels.Status
		want   channels.Channel
	}{
		{channels.StatusDelivered, channels.Email},
		{channels.StatusRead, channels.Email},
		{channels.StatusAccepted, ""},
	} {
		r := &run{sends: sendState{current: "sendgrid/m1",
			statuses: map[string]channels.Status{"sendgrid/m1": tt.status},
			sent:     map[string]sentMessage{"sendgrid/m1": {channel: channels.Email, id: "m1"}}}}
		r.adoptDelivery()
		if r.result.Channel != tt.want || (tt.want != "" && (r.result.MessageID != "m1" || r.timeline.Delivery == nil)) {
			t.Errorf("status %s: result %+v, want the delivery on %q", tt.status, r.result, tt.want)
		}
	}
}
