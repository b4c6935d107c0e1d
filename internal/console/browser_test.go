package console_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
)

// chromium returns the path of Debian's chromium. Without it the test is
// skipped, except under CI (CI set), where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SWITCHBACK_CHROMIUM"), "chromium", "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing (apt-get install chromium): the browser test cannot run under CI")
	}
	t.Skip("chromium is missing (apt-get install chromium; or set SWITCHBACK_CHROMIUM)")
	return ""
}

// serveConsole serves the console of s, with its settings changed by
// configure, on a loopback server; its log goes to logs.
func serveConsole(t *testing.T, s *apptest.Stack, configure func(*config.Console)) (srv *httptest.Server, cfg config.Config, logs *syncBuffer) {
	t.Helper()
	logs = &syncBuffer{}
	cfg = s.Config
	configure(&cfg.Console)
	h, err := app.ConsoleHandler(app.ConsoleOptions{Client: s.Client, Config: cfg, Store: s.Store, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, cfg, logs
}

// syncBuffer is a log destination safe for the handlers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// browser drives one headless chromium tab; each step that fails saves a
// screenshot to the test's temporary directory.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newBrowser(t *testing.T, ctx context.Context) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()),
		// Nothing leaves loopback: every other host goes to a dead proxy.
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("no-first-run", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// Start the browser now (on a context without its own timeout, which
	// would end the browser with it; ctx bounds it).
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, dir: t.TempDir()}
}

// step runs actions within 30 seconds; on failure it saves a screenshot
// and stops the test.
func (b *browser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(name, err)
	}
}

// read runs a that reads a value, within 30 seconds; on failure it saves
// a screenshot and stops the test.
func read[T any](b *browser, name string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(name, err)
	}
	return v
}

// fail saves a screenshot of the page and stops the test.
func (b *browser) fail(name string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	shot := filepath.Join(b.dir, strings.ReplaceAll(name, " ", "_")+".png")
	url, _ := chromedp.Run(ctx, chromedp.Location())
	png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if serr != nil {
		b.t.Fatalf("%s: %v (and no screenshot: %v)", name, err, serr)
	}
	if werr := os.WriteFile(shot, png, 0o644); werr != nil {
		b.t.Fatalf("%s: %v (and no screenshot: %v)", name, err, werr)
	}
	b.t.Fatalf("%s at %s: %v; screenshot: %s", name, url, err, shot)
}

// text returns the text of the first node that sel matches.
func (b *browser) text(name, sel string) string {
	b.t.Helper()
	b.step(name, chromedp.WaitVisible(chromedp.CSS(sel)))
	return read(b, name, chromedp.TextContent(chromedp.CSS(sel)))
}

// waitListed waits until visibility lists n journeys of the contact.
func waitListed(t *testing.T, s *apptest.Stack, key string, n int) {
	t.Helper()
	waitQuery(t, s, fmt.Sprintf("SwitchbackContact = '%s'", key), n)
}

// The whole console in a real browser: log in, open the diagram of
// abandoned_cart and find its steps, find the customer of a
// WhatsApp → SMS fallback by number, see the SMS lane and the fallback's
// reason, reveal the number, cancel a running journey through the
// confirmation, list the verified journeys, and download the report's CSV,
// which is `report --csv`'s.
func TestConsoleInBrowser(t *testing.T) {
	chromium(t)
	s := apptest.Start(t)
	srv, cfg, logs := serveConsole(t, s, func(c *config.Console) {
		c.Token = "browser-test-token"
		c.TemporalUIURL = "http://127.0.0.1:8233"
	})

	fellBack := s.RunOTP(t, sandbox.WhatsAppUndeliverable)
	var fallback journeys.Event
	for _, ev := range fellBack.Timeline.Events {
		if ev.Kind == journeys.EventFallback {
			fallback = ev
		}
	}
	if fallback.Reason == "" || fallback.ReasonClass == "" {
		t.Fatalf("the journey has no fallback with a reason and class: %+v", fellBack.Timeline)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	otp, err := journeys.Builtin("otp", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	silent, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{
		Journey: otp, To: sandbox.WhatsAppSilent, Vars: map[string]string{"code": "112233"}, ContactKey: cfg.ContactKeyOrDefault(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, s, journeys.ContactKey(cfg.ContactKeyOrDefault(), sandbox.WhatsAppUndeliverable), 1)

	b := newBrowser(t, ctx)
	b.step("log in",
		chromedp.Navigate(srv.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), cfg.Console.Token),
		chromedp.Click(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#q`)),
	)
	b.step("open the abandoned_cart diagram",
		chromedp.Click(chromedp.CSS(`#definitions-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#definitions a[href="/console/definitions/abandoned_cart"]`)),
		chromedp.Click(chromedp.CSS(`#definitions a[href="/console/definitions/abandoned_cart"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#diagram svg g.step[data-step="first_reminder"] g.attempt[data-channel="email"]`)),
	)
	b.shot("diagram")
	drawn := read(b, "read the diagram's steps", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#diagram svg g.step')).map(g => g.dataset.step + ': ' + g.textContent.replace(/\s+/g, ' ').trim())`))
	cart, err := journeys.Builtin("abandoned_cart", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	if len(drawn) != len(cart.Steps) {
		b.fail("diagram steps", fmt.Errorf("the diagram draws %d steps, want %d: %q", len(drawn), len(cart.Steps), drawn))
	}
	for i, s := range cart.Steps {
		want := "whatsapp"
		if s.Wait != nil {
			want = "wait " + diagram.FormatDuration(time.Duration(s.Wait.Duration))
		}
		if !strings.HasPrefix(drawn[i], s.ID()+": ") || !strings.Contains(drawn[i], want) {
			b.fail("diagram step", fmt.Errorf("step %d is drawn %q, want %s with %q", i, drawn[i], s.ID(), want))
		}
	}
	b.step("back home", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#q`)))
	b.step("find the customer",
		chromedp.SendKeys(chromedp.CSS(`#q`), sandbox.WhatsAppUndeliverable),
		chromedp.Click(chromedp.CSS(`#find`)),
		chromedp.WaitVisible(chromedp.CSS(`#journeys`)),
	)
	b.shot("customer")
	if n := b.text("read the number", "#number"); strings.Contains(n, sandbox.WhatsAppUndeliverable) || !strings.Contains(n, "01") {
		b.fail("number masked", fmt.Errorf("number cell %q: want it masked, ending in 01", n))
	}
	if got := b.text("read the journeys", "#journeys"); !strings.Contains(got, fellBack.ID) || !strings.Contains(got, "verified") {
		b.fail("journeys listed", fmt.Errorf("journeys table %q lacks %s, verified", got, fellBack.ID))
	}
	b.step("reveal the number", chromedp.Click(chromedp.CSS(`#reveal`)), chromedp.WaitNotPresent(chromedp.CSS(`#reveal`)))
	if n := b.text("read the revealed number", "#number"); !strings.Contains(n, sandbox.WhatsAppUndeliverable) {
		b.fail("number revealed", fmt.Errorf("number cell %q after show", n))
	}

	b.step("open the journey",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#journeys a[href="/console/journeys/%s"]`, fellBack.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#timeline`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline g.lane[data-lane="sms"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline g.lane[data-lane="whatsapp"]`)),
	)
	b.shot("journey")
	// The picture's text, tooltips included, holds the fallback's reason
	// and its class; so does the table.
	picture := read(b, "read the picture", chromedp.Evaluate[string](`document.querySelector('#timeline').textContent`))
	for _, want := range []string{fallback.Reason, "[" + string(fallback.ReasonClass) + "]", "sms", "done: verified"} {
		if !strings.Contains(picture, want) {
			b.fail("fallback in the picture", fmt.Errorf("the timeline picture lacks %q:\n%s", want, picture))
		}
	}
	if table := b.text("read the table", "#events"); !strings.Contains(table, fallback.Reason) || !strings.Contains(table, string(fallback.ReasonClass)) {
		b.fail("fallback in the table", fmt.Errorf("the events table lacks %q [%s]", fallback.Reason, fallback.ReasonClass))
	}
	ui := read(b, "read the Web UI link", chromedp.AttributeValue(chromedp.CSS(`#temporal-ui`), "href")).Value
	if want := "http://127.0.0.1:8233/namespaces/" + s.Namespace + "/workflows/" + fellBack.ID; ui != want {
		b.fail("Web UI link", fmt.Errorf("link %q, want %q", ui, want))
	}

	b.step("cancel the running journey",
		chromedp.Navigate(srv.URL+"/console/journeys/"+silent.GetID()),
		chromedp.WaitVisible(chromedp.CSS(`#cancel`)),
		chromedp.Click(chromedp.CSS(`#cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-cancel`)),
		chromedp.Click(chromedp.CSS(`#confirm-cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
	)
	// The cancellation takes effect in the workflow: reload until the
	// page says so.
	deadline := time.Now().Add(20 * time.Second)
	for {
		outcome := b.text("read the outcome", "#outcome")
		if outcome == string(journeys.OutcomeCanceled) {
			break
		}
		if time.Now().After(deadline) {
			b.fail("journey canceled", fmt.Errorf("outcome %q, want canceled", outcome))
		}
		time.Sleep(200 * time.Millisecond)
		b.step("reload", chromedp.Reload())
	}
	if st, err := journeys.Describe(ctx, s.Client, silent.GetID()); err != nil || st.Outcome != journeys.OutcomeCanceled {
		t.Errorf("after the console's cancel, the journey is %+v, %v", st, err)
	}

	b.step("list the verified journeys",
		chromedp.Click(chromedp.CSS(`header nav a[href="/console/journeys"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome`)),
		chromedp.SetValue(chromedp.CSS(`#outcome`), string(journeys.OutcomeVerified)),
		chromedp.Click(chromedp.CSS(`#apply-filter`)),
		// The filtered page, not the list the filter was set on.
		chromedp.WaitReady(chromedp.CSS(`#outcome option[value="verified"][selected]`)),
		chromedp.WaitVisible(chromedp.CSS(`#journeys-list`)),
	)
	if got := b.text("read the journeys list", "#journeys-list"); !strings.Contains(got, fellBack.ID) || strings.Contains(got, silent.GetID()) {
		b.fail("journeys list by outcome", fmt.Errorf("the verified journeys %q: want %s, not %s", got, fellBack.ID, silent.GetID()))
	}
	checkReports(b, s)
	log := logs.String()
	for _, want := range []string{
		`action=cancel who=token workflow_id=` + silent.GetID(),
		`action="reveal number" who=token contact_key=` + journeys.ContactKey(cfg.ContactKeyOrDefault(), sandbox.WhatsAppUndeliverable),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the action log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, sandbox.WhatsAppUndeliverable) {
		t.Errorf("the log holds a number:\n%s", log)
	}
}
