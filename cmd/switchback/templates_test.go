package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/sandbox"
)

func TestTemplatesSyncAndList(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{
		WhatsAppWebhookURL: "http://127.0.0.1:1/webhooks/whatsapp", AppSecret: "s", AccessToken: "tok",
		PhoneNumberID: "1", TwilioAccountSID: "AC1", TwilioAuthToken: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer func() { srv.Close(); sb.Close() }()
	vars := map[string]string{
		"WHATSAPP_ACCESS_TOKEN": "tok", "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_APP_SECRET": "s",
		"WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_API_URL": srv.URL + "/v23.0", "WHATSAPP_WABA_ID": sandbox.DefaultWABAID,
		"SWITCHBACK_DATA_DIR": t.TempDir(),
	}
	runCLI := func(vars map[string]string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, args)
		return code, out.String(), errOut.String()
	}

	if code, out, _ := runCLI(vars, "templates", "list"); code != 0 || !strings.Contains(out, "templates sync") {
		t.Errorf("list before sync = %d %q", code, out)
	}
	code, out, errOut := runCLI(vars, "templates", "sync")
	if code != 0 || !strings.Contains(out, "synced 10 templates") {
		t.Fatalf("sync = %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(vars, "templates", "list")
	for _, want := range []string{"otp_code", "AUTHENTICATION", "spring_sale", "PAUSED", "RED", "header image, body 2, buttons 0", "10 templates"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("list = %d, output lacks %q:\n%s", code, want, out)
		}
	}
	if code, out, _ := runCLI(vars, "templates", "list", "--json"); code != 0 || !strings.Contains(out, `"name": "otp_code"`) {
		t.Errorf("list --json = %d %q", code, out)
	}

	noWABA := map[string]string{}
	for k, v := range vars {
		noWABA[k] = v
	}
	delete(noWABA, "WHATSAPP_WABA_ID")
	if code, _, errOut := runCLI(noWABA, "templates", "sync"); code != 1 || !strings.Contains(errOut, "WHATSAPP_WABA_ID") {
		t.Errorf("sync without WABA id = %d %q", code, errOut)
	}
	// Under dev (no WhatsApp settings) there is nothing to sync: it says why.
	if code, _, errOut := runCLI(map[string]string{"SWITCHBACK_DATA_DIR": vars["SWITCHBACK_DATA_DIR"]}, "templates", "sync"); code != 1 || !strings.Contains(errOut, "dev syncs the sandbox's templates at start") {
		t.Errorf("sync without WhatsApp = %d %q", code, errOut)
	}
	if code, _, _ := runCLI(vars, "templates", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand exit = %d, want 2", code)
	}
}
