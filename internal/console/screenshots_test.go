package console_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotsEnv names the directory into which the browser test writes
// the README's screenshots; unset, it writes none.
const screenshotsEnv = "SWITCHBACK_SCREENSHOTS"

// Screenshot size: pages are drawn 1200 pixels wide.
const shotWidth, shotHeight = 1200, 800

// shot writes a PNG of the whole page to name.png in the directory
// SWITCHBACK_SCREENSHOTS names, when it is set: the README's pictures come
// from the same steps that test the pages, so they never go stale.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	b.step("resize for the "+name+" screenshot", chromedp.EmulateViewport(shotWidth, shotHeight))
	defer b.step("restore the window", chromedp.ResetViewport())
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
}
