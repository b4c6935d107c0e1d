package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// TestSegmentCommands: a saved filter and an imported list are listed and
// shown with their sizes, and show masks numbers and addresses.
func TestSegmentCommands(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, dir, "vip.csv", `number,email,locale,timezone,tags,consent_whatsapp_marketing
+15551234567,ana@example.com,de_DE,Europe/Berlin,VIP;beta,yes
+15557654321,,de_DE,Europe/Berlin,vip,no
+15550001111,,en_US,America/New_York,,yes
`)
	code, out, errOut := storeCLI(t, dir, "segment", "import", "vip", csvFile)
	if code != 0 {
		t.Fatalf("segment import = %d %q %q", code, out, errOut)
	}
	wantOutput(t, "segment import", out, "imported 3 contacts", "saved segment vip (every contact): 3 contacts now")
	seed(t, dir, func(ctx context.Context, st store.Store) error {
		return st.RecordInbound(ctx, devKey("+15551234567"), channels.WhatsApp, time.Now().Add(-2*24*time.Hour))
	})
	code, out, errOut = storeCLI(t, dir, "segment", "save", "berlin-optin",
		"--consent", "whatsapp:marketing", "--timezone", "Europe/Berlin", "--inbound-within", "7d")
	if code != 0 {
		t.Fatalf("segment save = %d %q %q", code, out, errOut)
	}
	wantOutput(t, "segment save", out, "saved segment berlin-optin", "1 contacts now")
	if code, out, errOut = storeCLI(t, dir, "segment", "save", "vips", "--tags", "vip"); code != 0 {
		t.Fatalf("segment save --tags = %d %q", code, errOut)
	}
	wantOutput(t, "segment save --tags", out, "saved segment vips (tags vip): 2 contacts now")
	_, out, _ = storeCLI(t, dir, "contacts", "show", "+15551234567")
	wantLine(t, "contacts show", out, "tags", "beta vip")

	code, out, errOut = storeCLI(t, dir, "segment", "show", "vip", "--first", "2")
	if code != 0 {
		t.Fatalf("segment show = %d %q", code, errOut)
	}
	wantLine(t, "segment show", out, "size", "3 contacts")
	wantOutput(t, "segment show", out, "first 2 contacts (masked)")
	for _, secret := range []string{"+15551234567", "+15557654321", "+15550001111", "ana@example.com"} {
		if strings.Contains(out, secret) {
			t.Errorf("segment show prints %s unmasked:\n%s", secret, out)
		}
	}
	if got := strings.Count(out, "•"); got == 0 {
		t.Errorf("segment show masks nothing:\n%s", out)
	}

	_, out, _ = storeCLI(t, dir, "segment", "show", "berlin-optin")
	wantLine(t, "segment show berlin-optin", out, "filter", "consent whatsapp marketing, timezone Europe/Berlin, inbound whatsapp within 7d")
	wantLine(t, "segment show berlin-optin", out, "size", "1 contacts")
	wantOutput(t, "segment show berlin-optin", out, devKey("+15551234567"))

	code, out, _ = storeCLI(t, dir, "segment", "list")
	if code != 0 {
		t.Fatalf("segment list = %d", code)
	}
	wantLine(t, "segment list", out, "berlin-optin", "filter", "1")
	wantLine(t, "segment list", out, "vip", "list", "3", "every contact")
}

// TestSegmentRejects: mistakes are usage errors that name the flag or
// field, and nothing is saved.
func TestSegmentRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"segment", "save", "x", "--consent", "whatsapp"}, "--consent"},
		{[]string{"segment", "save", "x", "--consent", "fax:marketing"}, "consent channel"},
		{[]string{"segment", "save", "x", "--inbound-within", "soon"}, "--inbound-within"},
		{[]string{"segment", "save", "x", "--timezone", "Mars/Base"}, "timezone"},
		{[]string{"segment", "save", "x", "--tags", "vip,big$"}, "--tags"},
		{[]string{"segment", "save", "bad name"}, "segment name"},
		{[]string{"segment", "show"}, "one segment name"},
		{[]string{"segment", "import", "x"}, "CSV file"},
		{[]string{"segment", "drop"}, "unknown subcommand"},
	} {
		code, _, errOut := storeCLI(t, dir, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q = %d %q, want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if code, _, errOut := storeCLI(t, dir, "segment", "show", "x"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("show of a missing segment = %d %q", code, errOut)
	}
}
