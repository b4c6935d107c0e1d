package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// storeCLI runs switchback with args on the SQLite store under dir.
func storeCLI(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	vars := map[string]string{"SWITCHBACK_DATA_DIR": dir}
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// seed opens the store under dir for f, and closes it.
func seed(t *testing.T, dir string, f func(ctx context.Context, st store.Store) error) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "switchback.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := f(ctx, st); err != nil {
		t.Fatal(err)
	}
}

func devKey(number string) string { return journeys.ContactKey([]byte(config.DevContactKey), number) }

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantLine checks that a line of out holds fields, in order.
func wantLine(t *testing.T, what, out string, fields ...string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, f := range fields {
			i := strings.Index(rest, f)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(f):]
		}
		if ok {
			return
		}
	}
	t.Errorf("%s has no line with %q:\n%s", what, fields, out)
}

func wantOutput(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

func TestContactsImportAndShow(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, dir, "customers.csv", `number,email,locale,timezone,consent_whatsapp_marketing,consent_sms_marketing,source
+15551234567,Ana@Example.com,pt_BR,America/Sao_Paulo,yes,no,checkout checkbox
+15557654321,,,,,yes,
`)
	code, out, errOut := storeCLI(t, dir, "contacts", "import", csvFile)
	if code != 0 || !strings.Contains(out, "imported 2 contacts, 3 consent changes") {
		t.Fatalf("import = %d %q %q", code, out, errOut)
	}
	// Importing again changes no consent.
	if code, out, _ = storeCLI(t, dir, "contacts", "import", csvFile); code != 0 || !strings.Contains(out, "0 consent changes") {
		t.Errorf("second import = %d %q", code, out)
	}
	seed(t, dir, func(ctx context.Context, st store.Store) error {
		return st.RecordInbound(ctx, devKey("+15551234567"), channels.WhatsApp, time.Now().Add(-time.Hour))
	})
	code, out, errOut = storeCLI(t, dir, "contacts", "show", "+15551234567")
	if code != 0 {
		t.Fatalf("show = %d %q", code, errOut)
	}
	wantOutput(t, "contacts show", out, "ana@example.com", "America/Sao_Paulo", devKey("+15551234567"))
	wantLine(t, "contacts show", out, "whatsapp", "marketing", "granted", "checkout checkbox")
	wantLine(t, "contacts show", out, "sms", "marketing", "withdrawn", "checkout checkbox")
	wantLine(t, "contacts show", out, "whatsapp", "open until")
	wantLine(t, "contacts show", out, "sms", "never", "-", "unknown")
	_, out, _ = storeCLI(t, dir, "contacts", "show", "+15557654321")
	wantLine(t, "show of the second contact", out, "sms", "marketing", "granted", "import customers.csv")
	if code, out, _ = storeCLI(t, dir, "contacts", "show", "+15550009999"); code != 0 || !strings.Contains(out, "no contact record") {
		t.Errorf("show of a stranger = %d %q", code, out)
	}
}

func TestContactsImportRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, csv string
		wants     []string
	}{
		{"bad rows", "number,consent_sms_marketing\n+15551234567,yes\n5551234,yes\n+15557654321,maybe\n",
			[]string{"nothing imported", "line 3:", "not an E.164", "line 4:", `"maybe"`}},
		{"no number column", "phone\n+15551234567\n", []string{`no "number" column`}},
		{"bad consent column", "number,consent_fax_marketing\n+15551234567,yes\n", []string{"consent_fax_marketing"}},
		{"bad time zone", "number,timezone\n+15551234567,Mars/Olympus\n", []string{"Mars/Olympus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := storeCLI(t, dir, "contacts", "import", writeFile(t, dir, "in.csv", tt.csv))
			if code != 1 {
				t.Errorf("import = %d, want 1", code)
			}
			wantOutput(t, "import error", errOut, tt.wants...)
		})
	}
	if _, out, _ := storeCLI(t, dir, "contacts", "show", "+15551234567"); !strings.Contains(out, "no contact record") {
		t.Errorf("a rejected import stored something:\n%s", out)
	}
}

func TestConsentCommand(t *testing.T) {
	dir := t.TempDir()
	number := "+15551234567"
	seed(t, dir, func(ctx context.Context, st store.Store) error {
		return st.Suppress(ctx, store.Suppression{ContactKey: devKey(number), Channel: channels.SMS, Reason: store.ReasonOptOut, Source: "inbound keyword STOP", At: time.Now()})
	})
	code, out, errOut := storeCLI(t, dir, "consent", "grant", number, "--channel", "whatsapp", "--purpose", "marketing", "--source", "support call")
	if code != 0 || !strings.Contains(out, `marketing consent granted on whatsapp (source "support call")`) || errOut != "" {
		t.Errorf("grant = %d %q %q", code, out, errOut)
	}
	code, _, errOut = storeCLI(t, dir, "consent", "grant", number, "--channel", "sms", "--purpose", "marketing")
	if code != 0 || !strings.Contains(errOut, "stays suppressed on sms (opt-out keyword") {
		t.Errorf("grant on a suppressed channel = %d %q", code, errOut)
	}
	if code, _, _ = storeCLI(t, dir, "consent", "withdraw", number, "--channel", "whatsapp", "--purpose", "marketing"); code != 0 {
		t.Errorf("withdraw = %d", code)
	}
	_, out, _ = storeCLI(t, dir, "contacts", "show", number)
	wantLine(t, "show after consent", out, "whatsapp", "marketing", "granted", "support call")
	wantLine(t, "show after consent", out, "whatsapp", "marketing", "withdrawn", "cli")
	wantLine(t, "show after consent", out, "sms", "opt-out keyword", "inbound keyword STOP")

	for _, args := range [][]string{
		{"consent"}, {"consent", "revoke", number},
		{"consent", "grant", number, "--channel", "fax", "--purpose", "marketing"},
		{"consent", "grant", number, "--channel", "sms", "--purpose", "sales"},
		{"consent", "grant", "5551234", "--channel", "sms", "--purpose", "marketing"},
	} {
		if code, _, _ := storeCLI(t, dir, args...); code != 2 {
			t.Errorf("%q = %d, want 2", args, code)
		}
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	seed(t, dir, func(ctx context.Context, st store.Store) error {
		for _, e := range []store.MessageEvent{
			{Provider: "whatsapp", MessageID: "w1", Status: store.EventAccepted, Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 1, Channel: channels.WhatsApp, Template: "otp_code", At: now.Add(-time.Hour)},
			{Provider: "whatsapp", MessageID: "w1", Status: store.EventFailed, ErrorCode: "131026", At: now.Add(-time.Hour)},
			// The journey records a fallback without its template: the
			// report files it under its attempt's.
			{Provider: store.LocalProvider, MessageID: "otp-1#1", Status: store.EventFallback, Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 1, Channel: channels.WhatsApp,
				ReasonClass: store.ClassFailedStatus, At: now.Add(-time.Hour)},
			{Provider: "twilio", MessageID: "s1", Status: store.EventAccepted, Journey: "otp", Step: "code", Channel: channels.SMS, At: now.Add(-time.Hour)},
			{Provider: "twilio", MessageID: "s1", Status: store.EventDelivered, At: now.Add(-time.Hour)},
			{Provider: "twilio", MessageID: "s0", Status: store.EventAccepted, Journey: "otp", Step: "code", Channel: channels.SMS, At: now.Add(-72 * time.Hour)},
			{Provider: "whatsapp", MessageID: "c1", Status: store.EventAccepted, Journey: "cart", Step: "nudge", Channel: channels.WhatsApp, Template: "cart_reminder", At: now.Add(-time.Hour)},
		} {
			if _, err := st.RecordEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	code, out, errOut := storeCLI(t, dir, "report", "--journey", "otp", "--since", "1d", "--csv")
	want := `journey,step,channel,template,sent,delivered,read,failed,failed_by_code,fallbacks,fallbacks_by_class,skipped,skipped_by_class,replies,conversions,broadcast_pauses,paused_by_class
otp,code,sms,,1,1,0,0,,0,,0,,0,0,0,
otp,code,whatsapp,otp_code,1,0,0,1,131026=1,1,failed_status=1,0,,0,0,0,
`
	if code != 0 || out != want {
		t.Errorf("report --csv = %d %q\n%s\nwant\n%s", code, errOut, out, want)
	}
	code, out, _ = storeCLI(t, dir, "report")
	wantOutput(t, "report table", out, "JOURNEY", "cart", "cart_reminder", "131026=1")
	if strings.Count(out, "\n") != 4 || code != 0 {
		t.Errorf("report = %d, want a header and 3 rows:\n%s", code, out)
	}
	if code, _, _ = storeCLI(t, dir, "report", "--since", "yesterday"); code != 2 {
		t.Errorf("report --since yesterday = %d, want 2", code)
	}
}
