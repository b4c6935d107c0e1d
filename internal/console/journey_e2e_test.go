package console_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
)

// A journey page on a whole Switchback: an event whose handler needs a
// param it lacks is refused at once with the journey's words, and nothing
// reaches the journey; the same event with its param is sent, logged with
// who sent it, and shows in the timeline.
func TestJourneyPageSendsEvents(t *testing.T) {
	s := apptest.Start(t)
	srv, cfg, logs := serveConsole(t, s, func(c *config.Console) { c.UserHeader = "X-Forwarded-User" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := journeys.Builtin("order_update", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{
		Journey: j, ID: "order-A-9", To: "+15551234567", Vars: map[string]string{"order_id": "A-9"}, ContactKey: cfg.ContactKeyOrDefault(),
	})
	if err != nil {
		t.Fatal(err)
	}
	jar := &cookieJar{}
	page := jar.do(t, srv, http.MethodGet, "/console/journeys/"+run.GetID(), nil)
	if page.code != http.StatusOK || !strings.Contains(page.body, `id="send-event"`) {
		t.Fatalf("journey page = %d, without the event form:\n%s", page.code, page.body)
	}
	if missing := jar.do(t, srv, http.MethodGet, "/console/journeys/no-such-journey", nil); missing.code != http.StatusNotFound {
		t.Errorf("an unknown journey = %d, want 404", missing.code)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)[1]

	refused := jar.do(t, srv, http.MethodPost, "/console/journeys/"+run.GetID()+"/events", url.Values{"csrf": {csrf}, "name": {"shipped"}})
	if refused.code != http.StatusUnprocessableEntity || !strings.Contains(refused.body, `journey "order_update": event "shipped" needs tracking_url`) {
		t.Fatalf("shipped without tracking_url = %d:\n%s", refused.code, refused.body)
	}
	sent := jar.do(t, srv, http.MethodPost, "/console/journeys/"+run.GetID()+"/events",
		url.Values{"csrf": {csrf}, "name": {"shipped"}, "vars": {"tracking_url=https://track.example/A-9"}})
	if sent.code != http.StatusOK || !strings.Contains(sent.body, "Event sent.") {
		t.Fatalf("shipped with tracking_url = %d:\n%s", sent.code, sent.body)
	}
	if got := receivedEvents(t, ctx, s, run.GetID()); got != "shipped" {
		t.Errorf("events the journey received: %q, want shipped once", got)
	}
	log := logs.String()
	if !strings.Contains(log, "action=event who=support@corp.example workflow_id=order-A-9 event=shipped") || strings.Contains(log, "track.example") {
		t.Errorf("the event is not logged with who sent it, or the log holds its vars:\n%s", log)
	}
}

// receivedEvents returns the names of the events in the journey's
// timeline, once there is one (or after a few seconds).
func receivedEvents(t *testing.T, ctx context.Context, s *apptest.Stack, id string) string {
	t.Helper()
	var got []string
	for try := 0; try < 50 && len(got) == 0; try++ {
		time.Sleep(time.Duration(try) * 10 * time.Millisecond)
		tl, err := journeys.GetTimeline(ctx, s.Client, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range tl.Events {
			if ev.Kind == journeys.EventReceived {
				got = append(got, ev.Name)
			}
		}
	}
	return strings.Join(got, ",")
}

// cookieJar keeps the console's cookies between requests, as a browser
// behind the SSO proxy would, and follows redirects.
type cookieJar struct{ cookies []*http.Cookie }

type answer struct {
	code int
	body string
}

func (j *cookieJar) do(t *testing.T, srv *httptest.Server, method, path string, form url.Values) answer {
	t.Helper()
	c := srv.Client()
	c.Jar = nil
	for {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Forwarded-User", "support@corp.example")
		for _, ck := range j.cookies {
			req.AddCookie(ck)
		}
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		j.cookies = append(j.cookies, resp.Cookies()...)
		if resp.StatusCode != http.StatusSeeOther {
			return answer{resp.StatusCode, html.UnescapeString(string(b))}
		}
		method, path, form = http.MethodGet, resp.Header.Get("Location"), nil
	}
}
