package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store/sqlite"
	"github.com/switchbackhq/switchback/templates"
	"github.com/switchbackhq/switchback/workflows"
)

// cli runs switchback with args against a stack and returns its exit code
// and output.
func cli(t *testing.T, s *apptest.Stack, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runEnv(stackVars(s), args...)
}

// stackVars is the environment that points the CLI at s's Temporal, with
// its encryption key.
func stackVars(s *apptest.Stack) map[string]string {
	vars := map[string]string{}
	if s != nil {
		vars["SWITCHBACK_TEMPORAL_ADDRESS"] = s.FrontendAddr
		vars["SWITCHBACK_TEMPORAL_NAMESPACE"] = s.Namespace
		vars["SWITCHBACK_ENCRYPTION_KEY"] = codec.FormatKeys(s.Config.EncryptionKeys)
	}
	return vars
}

func TestStartStatusCancel(t *testing.T) {
	s := apptest.Start(t)

	code, out, errOut := cli(t, s, "start", "otp", "--to", sandbox.WhatsAppUndeliverable, "--var", "code=493817", "--wait", "--id", "cli-1")
	if code != 0 || strings.TrimSpace(out) != "cli-1" || !strings.Contains(errOut, "delivered on sms") || !strings.Contains(errOut, "awaiting verification") {
		t.Fatalf("start --wait = %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut = cli(t, s, "verify", "cli-1", "000000"); code != 1 || !strings.Contains(errOut, "4 checks left") {
		t.Errorf("verify wrong code = %d %q", code, errOut)
	}
	if code, out, errOut = cli(t, s, "verify", "cli-1", "493817"); code != 0 || !strings.Contains(out, "verified cli-1") {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}

	code, out, _ = cli(t, s, "status", "cli-1")
	for _, want := range []string{"journey cli-1 (otp): verified", "status failed", "code 131026", "fallback", "status delivered", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("status exit = %d", code)
	}
	// Without a store status shows the journey's own timeline, and creates
	// none; with the stack's, also the statuses the webhooks recorded.
	if strings.Contains(out, journeys.RecordedReason) {
		t.Errorf("status without a store shows recorded statuses:\n%s", out)
	}
	if _, err := os.Stat(".switchback"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("status made a data directory here: %v", err)
	}
	vars := stackVars(s)
	vars["SWITCHBACK_DATA_DIR"] = s.Config.DataDir
	code, out, _ = runEnv(vars, "status", "cli-1")
	if code != 0 || !regexp.MustCompile(`status sent +2 +sms .*`+journeys.RecordedReason).MatchString(out) {
		t.Errorf("status with the store = %d, lacks the SMS's sent recorded by the webhook:\n%s", code, out)
	}
	code, out, _ = cli(t, s, "status", "--json", "cli-1")
	var tl workflows.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil || code != 0 || tl.Outcome != workflows.OutcomeVerified {
		t.Errorf("status --json = %d, %v, outcome %q", code, err, tl.Outcome)
	}

	// The same key again sends nothing.
	sent := len(s.Sandbox.Sent())
	code, out, errOut = cli(t, s, "start", "otp", "--to", sandbox.WhatsAppUndeliverable, "--var", "code=493817", "--id", "cli-1")
	if code != 0 || strings.TrimSpace(out) != "cli-1" || !strings.Contains(errOut, "already exists") || len(s.Sandbox.Sent()) != sent {
		t.Errorf("repeated start = %d %q %q, sends %d → %d", code, out, errOut, sent, len(s.Sandbox.Sent()))
	}

	// A journey that fails exits 1.
	code, _, errOut = cli(t, s, "start", "otp", "--to", sandbox.Unreachable, "--var", "code=4242", "--wait")
	if code != 1 || !strings.Contains(errOut, "failed") {
		t.Errorf("failing journey: exit %d, stderr %q", code, errOut)
	}

	// Cancel a journey that waits for a status that never comes.
	code, out, _ = cli(t, s, "start", "otp", "--to", sandbox.WhatsAppSilent, "--var", "code=4242", "--id", "cli-2")
	if code != 0 || strings.TrimSpace(out) != "cli-2" {
		t.Fatalf("start = %d %q", code, out)
	}
	if code, out, errOut = cli(t, s, "cancel", "cli-2"); code != 0 || !strings.Contains(out, "cancellation requested") {
		t.Errorf("cancel = %d %q %q", code, out, errOut)
	}
	if code, out, _ = cli(t, s, "cancel", "cli-1"); code != 0 || !strings.Contains(out, "already ended") {
		t.Errorf("cancel of an ended journey = %d %q", code, out)
	}

	// list finds journeys by contact and outcome (visibility may lag a little).
	var listed string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, listed, _ = cli(t, s, "list", "--contact", sandbox.WhatsAppUndeliverable, "--status", "verified")
		if strings.Contains(listed, "cli-1") {
			break
		}
	}
	if !strings.Contains(listed, "cli-1") || !strings.Contains(listed, "otp") || strings.Contains(listed, "cli-2") {
		t.Errorf("list = %q, want cli-1 only", listed)
	}
}

func TestSignalWithStartOrderUpdate(t *testing.T) {
	s := apptest.Start(t)
	// The shipped event comes before the journey exists: it starts it.
	code, out, errOut := cli(t, s, "signal", "order-A1", "shipped", "--var", "tracking_url=https://track.example/A1",
		"--start", "order_update", "--to", "+15551234567", "--start-var", "order_id=A1")
	if code != 0 || !strings.Contains(out, "sent shipped to order-A1") {
		t.Fatalf("signal --start = %d %q %q", code, out, errOut)
	}
	if code, _, errOut = cli(t, s, "signal", "order-A1", "delivered"); code != 0 {
		t.Fatalf("signal delivered = %d %q", code, errOut)
	}
	ctx := context.Background()
	var res workflows.Result
	if err := s.Client.GetWorkflow(ctx, "order-A1", "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeCompleted {
		t.Errorf("outcome = %s, want completed", res.Outcome)
	}
	var templates []string
	for _, m := range s.Sandbox.Sent() {
		templates = append(templates, m.Template)
	}
	if fmt.Sprint(templates) != "[order_shipped order_delivered]" {
		t.Errorf("sent templates = %v", templates)
	}
}

func TestValidate(t *testing.T) {
	if code, out, errOut := cli(t, nil, "validate"); code != 0 || !strings.Contains(out, "ok  otp") || !strings.Contains(out, "ok  order_update") || !strings.Contains(out, "ok  abandoned_cart") {
		t.Errorf("validate built-ins = %d %q %q", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	spec := "name: bad\npurpose: utility\nsteps:\n  - send:\n      id: s\n      attempts:\n        - channel: fax\n          text: hi\n"
	if err := os.WriteFile(bad, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, nil, "validate", bad)
	if want := bad + ":7: step s: steps[0].send.attempts[0].channel: unknown channel \"fax\""; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("validate bad = %d %q, want %q", code, errOut, want)
	}
	// A type error does not hide the file's other problems.
	if err := os.WriteFile(bad, []byte(spec+"          within: 3x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, nil, "validate", bad)
	for _, want := range []string{bad + ":9: step s: steps[0].send.attempts[0].within: bad duration", bad + ":7: step s: steps[0].send.attempts[0].channel: unknown channel"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("validate = %d %q, want %q", code, errOut, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"launch"}, 2, `unknown command "launch"`},
		{[]string{"start", "otp"}, 2, "--to is required"},
		{[]string{"start"}, 2, "name one built-in journey"},
		{[]string{"start", "otp", "--to", "+15551234567", "--var", "code"}, 2, "want name=value"},
		{[]string{"start", "nope", "--to", "+15551234567"}, 1, `unknown journey "nope"`},
		{[]string{"start", "otp", "--to", "12345", "--var", "code=1"}, 1, "not an E.164 phone number"},
		{[]string{"start", "otp", "--to", "+15551234567"}, 1, "needs code"},
		{[]string{"status"}, 2, "give one workflow id"},
		{[]string{"cancel", "a", "b"}, 2, "give one workflow id"},
		{[]string{"rollout"}, 2, "name the Worker Deployment"},
		{[]string{"rollout", "a", "b"}, 2, `unexpected argument "b"`},
		{[]string{"bench", "--temporal", "127.0.0.1:7233", "--only", "journey,waiting"}, 2, "--temporal runs only journey, fallback, webhook and latency"},
		{[]string{"bench", "--only", "latency", "--latency-rate", "0"}, 2, "--latency-rate must be above 0"},
	}
	for _, tt := range tests {
		code, _, errOut := cli(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("switchback %v = %d %q, want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

func TestSimulate(t *testing.T) {
	code, out, errOut := cli(t, nil, "simulate", "otp", "--var", "code=493817", "--scenario", "whatsapp=failed,sms=delivered", "--verify", "493817@1m")
	for _, want := range []string{"(otp): verified", "status failed", "code 131026", "fallback", "sms", "status delivered", "+1m0s  verify", "code verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("simulate = %d %q", code, errOut)
	}
	if code, _, errOut = cli(t, nil, "simulate", "otp", "--var", "code=493817", "--scenario", "fax=lost"); code != 2 || !strings.Contains(errOut, "fax=lost") {
		t.Errorf("bad scenario = %d %q", code, errOut)
	}
}

// simulate --sent-recently: the contact's recent messages fill the cap,
// and each WhatsApp reminder is skipped as frequency_capped.
func TestSimulateFrequencyCaps(t *testing.T) {
	code, out, errOut := cli(t, nil, "simulate", "abandoned_cart", "--var", "cart_url=https://shop.example/c/1", "--email", "ana@example.com",
		"--start", "2026-11-25T09:00:00Z", "--caps", "marketing:whatsapp=2/7d", "--sent-recently", "whatsapp=2")
	if code != 0 {
		t.Fatalf("simulate = %d %q", code, errOut)
	}
	if n := strings.Count(out, "frequency capped: 2 marketing sends on whatsapp within 7d"); n != 2 {
		t.Errorf("simulate output has %d capped attempts, want 2:\n%s", n, out)
	}
	if code, _, errOut = cli(t, nil, "simulate", "otp", "--sent-recently", "fax=1"); code != 2 || !strings.Contains(errOut, "--sent-recently") {
		t.Errorf("bad --sent-recently = %d %q", code, errOut)
	}
}

// simulate --tier --sent-today: the day's recipients fill the messaging
// limit, and each WhatsApp reminder is skipped as tier_limited.
func TestSimulateTier(t *testing.T) {
	code, out, errOut := cli(t, nil, "simulate", "abandoned_cart", "--var", "cart_url=https://shop.example/c/1", "--email", "ana@example.com",
		"--start", "2026-11-25T09:00:00Z", "--tier", "250", "--sent-today", "250")
	if code != 0 {
		t.Fatalf("simulate = %d %q", code, errOut)
	}
	if n := strings.Count(out, "tier limited: 250 unique WhatsApp recipients within 24h"); n != 2 {
		t.Errorf("simulate output has %d tier-limited attempts, want 2:\n%s", n, out)
	}
	if code, _, errOut = cli(t, nil, "simulate", "otp", "--tier", "TIER_3K"); code != 2 || !strings.Contains(errOut, "--tier") {
		t.Errorf("bad --tier = %d %q", code, errOut)
	}
}

// With a synced template registry, validate checks each WhatsApp template
// a journey sends: it exists, is approved, and gets its parameters.
func TestValidateAgainstTemplateRegistry(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, app.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	reg := templates.NewRegistry(st)
	if err := reg.Replace(context.Background(), "waba", []templates.Template{
		{Name: "otp_code", Language: "en_US", Category: "AUTHENTICATION", Status: "APPROVED",
			Components: []templates.Component{{Type: "BODY", Params: 2}}},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
		if k == "SWITCHBACK_DATA_DIR" {
			return dir
		}
		return ""
	}}
	if code := run(context.Background(), e, []string{"validate"}); code != 1 {
		t.Errorf("validate = %d, want 1", code)
	}
	for _, want := range []string{
		`otp: step code: steps[0].send.attempts[0].template:`,
		`template_param_mismatch`,
		`order_update: step shipped: on[1].steps[0].send.attempts[0].template:`,
		`"order_shipped" is not in the registry`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, errOut.String())
		}
	}
}
