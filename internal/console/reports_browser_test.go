package console_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/report"
)

// checkReports opens the reports page from the console's navigation, sees
// the SMS row of the fallback journeys, downloads the CSV through the
// page's link and compares it with what `report --csv` writes for the same
// store.
func checkReports(b *browser, s *apptest.Stack) {
	b.t.Helper()
	b.step("open the reports",
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/reports"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#funnel`)),
		chromedp.WaitVisible(chromedp.CSS(`#funnel tr[data-row^="otp/"] svg.chart g.bar[data-label="delivered"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#failures`)),
	)
	b.shot("reports")
	if got := b.text("read the funnel", "#funnel"); !strings.Contains(got, "sms") || !strings.Contains(got, "whatsapp") {
		b.fail("funnel rows", fmt.Errorf("the funnel %q lacks the otp journey's whatsapp and sms rows", got))
	}
	got := b.download("download the CSV", `#csv`)
	events, err := s.Store.Events(context.Background(), report.Filter{}.EventFilter())
	if err != nil {
		b.t.Fatal(err)
	}
	var want bytes.Buffer
	if err := report.WriteCSV(&want, report.Rows(events, report.Filter{})); err != nil {
		b.t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("\notp,code,sms,")) || !bytes.Equal(got, want.Bytes()) {
		b.fail("CSV download", fmt.Errorf("the downloaded CSV\n%s\ndiffers from report --csv's\n%s", got, want.Bytes()))
	}
}

// download clicks the link sel, lets the browser save what it downloads,
// and returns the file's bytes.
func (b *browser) download(name, sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	b.step(name,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			events := true
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
	)
	for ev, err := range progress {
		if err != nil {
			b.fail(name, err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.fail(name, err)
			}
			return data
		case cdpbrowser.DownloadProgressStateCanceled:
			b.fail(name, fmt.Errorf("the browser canceled the download"))
		}
	}
	b.fail(name, fmt.Errorf("no download within 30s: %w", ctx.Err()))
	return nil
}
