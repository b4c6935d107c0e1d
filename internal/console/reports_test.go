package console

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/report"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
	"github.com/switchbackhq/switchback/templates"
)

// reportEvents are an OTP that fell back from WhatsApp (131026) to a
// delivered SMS, a cart reminder read and converted, and an SMS of a day
// before; now is the console's clock.
func reportEvents(now time.Time) []store.MessageEvent {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	return []store.MessageEvent{
		{Provider: "whatsapp", MessageID: "w1", Status: store.EventAccepted, Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 1, Channel: channels.WhatsApp, Template: "otp_code", At: ago(time.Hour)},
		{Provider: "whatsapp", MessageID: "w1", Status: store.EventFailed, ErrorCode: "131026", ErrorReason: "Message undeliverable", At: ago(time.Hour - time.Second)},
		{Provider: store.LocalProvider, MessageID: "otp-1#1", Status: store.EventFallback, Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 1, Channel: channels.WhatsApp, ReasonClass: store.ClassFailedStatus, At: ago(time.Hour - time.Second)},
		{Provider: "twilio", MessageID: "s1", Status: store.EventAccepted, Journey: "otp", WorkflowID: "otp-1", Step: "code", Attempt: 2, Channel: channels.SMS, At: ago(time.Hour - 2*time.Second)},
		{Provider: "twilio", MessageID: "s1", Status: store.EventDelivered, At: ago(time.Hour - 9*time.Second)},
		{Provider: "twilio", MessageID: "s0", Status: store.EventAccepted, Journey: "otp", Step: "code", Channel: channels.SMS, At: ago(72 * time.Hour)},
		{Provider: "whatsapp", MessageID: "c1", Status: store.EventAccepted, Journey: "abandoned_cart", WorkflowID: "cart-1", Step: "remind", Attempt: 1, Channel: channels.WhatsApp, Template: "cart_reminder", At: ago(2 * time.Hour)},
		{Provider: "whatsapp", MessageID: "c1", Status: store.EventRead, At: ago(2*time.Hour - 3*time.Second)},
		{Provider: store.LocalProvider, MessageID: "cart-1#r", Status: store.EventConverted, Journey: "abandoned_cart", WorkflowID: "cart-1", Step: "remind", Channel: channels.WhatsApp, Template: "cart_reminder", At: ago(90 * time.Minute)},
	}
}

// reportConsole is a test console on a SQLite store holding
// reportEvents, and a template registry of two templates.
func reportConsole(t *testing.T) (*testConsole, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "switchback.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := templates.NewRegistry(st)
	tc := newTestConsole(t, Options{Token: testToken, Store: st, Templates: reg})
	for _, e := range reportEvents(tc.now) {
		if _, err := st.RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	err = reg.Replace(ctx, "waba-1", []templates.Template{
		{Name: "otp_code", Language: "en_US", Category: "AUTHENTICATION", Status: "APPROVED", Quality: "GREEN"},
		{Name: "cart_reminder", Language: "en_US", Category: "MARKETING", Status: "PAUSED", Quality: "RED"},
	}, tc.now)
	if err != nil {
		t.Fatal(err)
	}
	return tc, st
}

func TestReportsPage(t *testing.T) {
	tc, _ := reportConsole(t)
	if w := tc.do(http.MethodGet, "/console/reports.csv", nil, nil, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("the CSV without login = %d, want a redirect to the login", w.Code)
	}
	cookie := []*http.Cookie{tc.login(t)}
	w := tc.do(http.MethodGet, "/console/reports?since=1d", nil, cookie, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("reports = %d:\n%s", w.Code, body)
	}
	for _, want := range []string{
		// The funnels, as the bars' labels give them.
		`aria-label="sent 1 (100%), delivered 0 (0%), read 0 (0%), replied 0 (0%), converted 0 (0%)"`,
		`aria-label="sent 1 (100%), delivered 1 (100%), read 1 (100%), replied 0 (0%), converted 1 (100%)"`,
		// The fallback's reason and its rate of the three messages sent.
		`<div>failed_status 1 (100%)</div>`, `aria-label="failed_status 1 (33%)"`,
		// The failure code, its meaning and its class.
		`<td>131026</td><td>1</td><td>Message undeliverable</td><td>permanent</td>`,
		// Latencies: SMS 7s, WhatsApp read after 3s.
		`<td>sms</td><td>1</td><td>7s</td><td>7s</td><td>7s</td>`, `<td>whatsapp</td><td>1</td><td>3s</td>`,
		`<td>cart_reminder</td><td>en_US</td><td>MARKETING</td><td>PAUSED</td><td>RED</td>`,
		`href="/console/reports.csv?since=1d"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the reports page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<style") {
		t.Error("the reports page holds a script or a style element")
	}
	if n := wellFormedSVGs(t, body); n != 4 {
		t.Errorf("the page draws %d charts, want 3 funnels and the fallbacks", n)
	}

	w = tc.do(http.MethodGet, "/console/reports?journey=otp&until=2026-11-30T08:00", nil, cookie, nil)
	if body := w.Body.String(); w.Code != http.StatusOK || strings.Contains(body, "abandoned_cart</td>") || !strings.Contains(body, `href="/console/reports.csv?journey=otp&amp;until=2026-11-30T08%3A00"`) {
		t.Errorf("reports of otp until 08:00 = %d, want otp's rows and its CSV link:\n%s", w.Code, body)
	}
	for _, q := range []string{"journey=Robert%27)%3B", "since=yesterday", "since=2026-11-30&until=2026-11-29", "until=soon"} {
		if w := tc.do(http.MethodGet, "/console/reports?"+q, nil, cookie, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `class="error"`) {
			t.Errorf("reports?%s = %d, want 400 saying what is wrong", q, w.Code)
		}
		if w := tc.do(http.MethodGet, "/console/reports.csv?"+q, nil, cookie, nil); w.Code != http.StatusBadRequest {
			t.Errorf("reports.csv?%s = %d, want 400", q, w.Code)
		}
	}
}

func TestReportsCSV(t *testing.T) {
	tc, st := reportConsole(t)
	cookie := []*http.Cookie{tc.login(t)}
	tests := []struct {
		query  string
		filter report.Filter
		want   string
	}{
		{"", report.Filter{}, `journey,step,channel,template,sent,delivered,read,failed,failed_by_code,fallbacks,fallbacks_by_class,skipped,skipped_by_class,replies,conversions,broadcast_pauses,paused_by_class
abandoned_cart,remind,whatsapp,cart_reminder,1,1,1,0,,0,,0,,0,1,0,
otp,code,sms,,2,1,0,0,,0,,0,,0,0,0,
otp,code,whatsapp,otp_code,1,0,0,1,131026=1,1,failed_status=1,0,,0,0,0,
`},
		{"?journey=otp&since=1d", report.Filter{Journey: "otp", Since: tc.now.Add(-24 * time.Hour)}, `journey,step,channel,template,sent,delivered,read,failed,failed_by_code,fallbacks,fallbacks_by_class,skipped,skipped_by_class,replies,conversions,broadcast_pauses,paused_by_class
otp,code,sms,,1,1,0,0,,0,,0,,0,0,0,
otp,code,whatsapp,otp_code,1,0,0,1,131026=1,1,failed_status=1,0,,0,0,0,
`},
	}
	for _, tt := range tests {
		w := tc.do(http.MethodGet, "/console/reports.csv"+tt.query, nil, cookie, nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
			w.Header().Get("Content-Disposition") != `attachment; filename="switchback-report.csv"` {
			t.Errorf("reports.csv%s = %d %v", tt.query, w.Code, w.Header())
		}
		if w.Body.String() != tt.want {
			t.Errorf("reports.csv%s =\n%s\nwant\n%s", tt.query, w.Body, tt.want)
		}
		// The bytes `report --csv` writes: its writer on its rows.
		events, err := st.Events(context.Background(), tt.filter.EventFilter())
		if err != nil {
			t.Fatal(err)
		}
		var cli bytes.Buffer
		if err := report.WriteCSV(&cli, report.Rows(events, tt.filter)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Body.Bytes(), cli.Bytes()) {
			t.Errorf("reports.csv%s differs from report --csv's:\n%s", tt.query, cli.String())
		}
	}
}

// wellFormedSVGs returns how many svg elements page holds, failing when
// one is not well-formed XML.
func wellFormedSVGs(t *testing.T, page string) int {
	t.Helper()
	n := 0
	for rest := page; ; n++ {
		start := strings.Index(rest, "<svg")
		if start < 0 {
			return n
		}
		end := strings.Index(rest[start:], "</svg>")
		if end < 0 {
			t.Fatalf("an svg is not closed:\n%s", rest[start:])
		}
		svg := rest[start : start+end+len("</svg>")]
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Fatalf("an svg is not well-formed: %v\n%s", err, svg)
		}
		rest = rest[start+end:]
	}
}
