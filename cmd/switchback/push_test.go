package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

const (
	tokA = "fcm-token-A:APA91bHaaaaaa-111111"
	tokB = "fcm-token-B:APA91bHbbbbbb-222222"
	tokC = "fcm-token-C:APA91bHcccccc-333333"
)

// TestContactsImportPushTokens: a push_tokens column adds the tokens,
// separated by spaces or ';', and show lists them masked.
func TestContactsImportPushTokens(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, dir, "customers.csv", "number,push_tokens\n+15551234567,"+tokA+"; "+tokB+"\n+15557654321,\n")
	if code, out, errOut := storeCLI(t, dir, "contacts", "import", csvFile); code != 0 || !strings.Contains(out, "imported 2 contacts") {
		t.Fatalf("import = %d %q %q", code, out, errOut)
	}
	code, out, errOut := storeCLI(t, dir, "contacts", "show", "+15551234567")
	if code != 0 {
		t.Fatalf("show = %d %q", code, errOut)
	}
	wantLine(t, "contacts show", out, "device tokens")
	wantLine(t, "contacts show", out, "…111111")
	wantLine(t, "contacts show", out, "…222222")
	wantLine(t, "contacts show", out, "push", "never", "-", "unknown")
	if strings.Contains(out, "APA91b") {
		t.Errorf("contacts show prints a whole token:\n%s", out)
	}
	_, out, _ = storeCLI(t, dir, "contacts", "show", "+15557654321")
	wantLine(t, "show of a contact without tokens", out, "device tokens")
	if strings.Contains(out, "…") {
		t.Errorf("a contact without tokens shows some:\n%s", out)
	}
}

func TestContactsImportBadPushToken(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, dir, "in.csv", "number,push_tokens\n+15551234567,"+tokA+"\n+15557654321,\"bad,token-secret-9\"\n")
	code, _, errOut := storeCLI(t, dir, "contacts", "import", csvFile)
	if code != 1 {
		t.Errorf("import = %d, want 1", code)
	}
	wantOutput(t, "import error", errOut, "nothing imported", "line 3:", "push_tokens")
	if strings.Contains(errOut, "token-secret") {
		t.Errorf("the error shows the token: %s", errOut)
	}
	if _, out, _ := storeCLI(t, dir, "contacts", "show", "+15551234567"); strings.Contains(out, "…") {
		t.Errorf("a rejected import stored tokens:\n%s", out)
	}
}

// TestStartPushTokens: start's --push-token refuses a bad token before
// anything, and keepTokens stores good ones with the contact.
func TestStartPushTokens(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := storeCLI(t, dir, "start", "otp", "--to", "+15551234567", "--push-token", "two words")
	if code == 0 || !strings.Contains(errOut, "device token") {
		t.Errorf("start with a bad token = %d %q, want a usage error naming the device token", code, errOut)
	}
	var out, errBuf bytes.Buffer
	e := &env{stdout: &out, stderr: &errBuf, getenv: func(k string) string {
		return map[string]string{"SWITCHBACK_DATA_DIR": dir}[k]
	}}
	var tokens tokensFlag
	for _, tok := range []string{tokA, tokC} {
		if err := tokens.Set(tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := keepTokens(context.Background(), e, "+15551234567", tokens); err != nil {
		t.Fatal(err)
	}
	_, show, _ := storeCLI(t, dir, "contacts", "show", "+15551234567")
	wantLine(t, "contacts show", show, "…111111")
	wantLine(t, "contacts show", show, "…333333")
}
