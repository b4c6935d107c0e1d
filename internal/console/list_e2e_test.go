package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/console"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/templates"
)

var (
	listedID = regexp.MustCompile(`href="/console/journeys/([^"/]+)"`)
	nextPage = regexp.MustCompile(`href="(/console/journeys\?[^"]+)" id="next-page"`)
)

// The journeys list and the templates page on a whole Switchback: two
// verified OTPs and a running order update; the list filtered by outcome
// pages through the two OTPs, one a page; filtered by journey it shows
// the order update; a filter that would change the query is refused. The
// templates page syncs the sandbox's templates with its CSRF token only.
func TestJourneysListAndTemplatesPage(t *testing.T) {
	s := apptest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	numbers := []string{"+15551230001", "+15551230002"}
	var otps []string
	for _, n := range numbers {
		otps = append(otps, s.RunOTP(t, n).ID)
	}
	j, err := journeys.Builtin("order_update", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	order, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{
		Journey: j, ID: "order-L-1", To: "+15551230003", Vars: map[string]string{"order_id": "L-1"}, ContactKey: s.Config.ContactKeyOrDefault(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitQuery(t, s, "SwitchbackOutcome = 'verified'", 2)
	waitQuery(t, s, "SwitchbackJourney = 'order_update'", 1)

	t.Run("list", func(t *testing.T) {
		srv := listConsole(t, s)
		jar := &cookieJar{}
		var seen []string
		path := "/console/journeys?outcome=verified"
		for pages := 0; path != "" && pages < 4; pages++ {
			page := jar.do(t, srv, http.MethodGet, path, nil)
			ids := listed(page.body)
			if page.code != http.StatusOK || len(ids) > 1 {
				t.Fatalf("%s = %d with %v, want 200 and one journey a page:\n%s", path, page.code, ids, page.body)
			}
			if strings.Contains(page.body, "+1555123000") {
				t.Errorf("%s shows a number", path)
			}
			seen = append(seen, ids...)
			path = ""
			if m := nextPage.FindStringSubmatch(page.body); m != nil {
				path = m[1]
			}
		}
		slices.Sort(seen)
		if want := slices.Sorted(slices.Values(otps)); !slices.Equal(seen, want) {
			t.Errorf("the verified journeys, page by page: %v, want %v", seen, want)
		}

		page := jar.do(t, srv, http.MethodGet, "/console/journeys?journey=order_update", nil)
		if ids := listed(page.body); !slices.Equal(ids, []string{order.GetID()}) {
			t.Errorf("order_update journeys: %v, want [%s]", ids, order.GetID())
		}
		customer := "/console/customers/" + journeys.ContactKey(s.Config.ContactKeyOrDefault(), "+15551230003")
		if !strings.Contains(page.body, `href="`+customer+`"`) {
			t.Errorf("the order update's row does not link to its customer %s:\n%s", customer, page.body)
		}
		if !strings.Contains(page.body, "WorkflowType = 'Journey' AND SwitchbackJourney = 'order_update'") {
			t.Errorf("the page does not show its query:\n%s", page.body)
		}

		bad := jar.do(t, srv, http.MethodGet, "/console/journeys?journey="+url.QueryEscape(`otp" OR 1=1`), nil)
		if bad.code != http.StatusBadRequest || len(listed(bad.body)) != 0 {
			t.Errorf("a journey filter with a quote = %d listing %v, want 400 listing none", bad.code, listed(bad.body))
		}
	})

	t.Run("templates", func(t *testing.T) {
		srv, _, logs := serveConsole(t, s, func(c *config.Console) { c.UserHeader = "X-Forwarded-User" })
		jar := &cookieJar{}
		before := jar.do(t, srv, http.MethodGet, "/console/templates", nil)
		if before.code != http.StatusOK || !strings.Contains(before.body, `id="sync"`) || strings.Contains(before.body, "order_shipped") {
			t.Fatalf("templates before a sync = %d, want a sync button and no templates:\n%s", before.code, before.body)
		}
		if forged := jar.do(t, srv, http.MethodPost, "/console/templates/sync", url.Values{}); forged.code != http.StatusForbidden {
			t.Errorf("sync without CSRF = %d, want 403", forged.code)
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(before.body)[1]
		after := jar.do(t, srv, http.MethodPost, "/console/templates/sync", url.Values{"csrf": {csrf}})
		ts, at, err := app.TemplateRegistry(s.Store).List(ctx)
		if err != nil || len(ts) == 0 {
			t.Fatalf("registry after the sync: %d templates, %v", len(ts), err)
		}
		for _, want := range append(templateCells(ts), fmt.Sprintf("Synced %d templates.", len(ts)), at.UTC().Format("2006-01-02 15:04:05Z")) {
			if !strings.Contains(after.body, want) {
				t.Errorf("templates after the sync lack %q:\n%s", want, after.body)
			}
		}
		if log := logs.String(); !strings.Contains(log, `action="sync templates" who=support@corp.example`) {
			t.Errorf("the sync is not logged with who did it:\n%s", log)
		}
	})
}

// listConsole serves a console on s that lists one journey a page.
func listConsole(t *testing.T, s *apptest.Stack) *httptest.Server {
	t.Helper()
	h, err := console.New(console.Options{
		Client: s.Client, DataConverter: s.DataConverter, Namespace: s.Namespace, Store: s.Store,
		ContactKey: s.Config.ContactKeyOrDefault(), Channels: app.Channels(),
		UserHeader: "X-Forwarded-User", PageSize: 1, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// listed returns the journeys a list page links to, in its order.
func listed(body string) []string {
	var ids []string
	for _, m := range listedID.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// templateCells returns the table cells that name each template and its
// parameters.
func templateCells(ts []templates.Template) []string {
	var cells []string
	for _, tp := range ts {
		cells = append(cells, "<td>"+tp.Name+"</td><td>"+tp.Language+"</td>", "<td>"+tp.Params()+"</td>")
	}
	return cells
}

// waitQuery waits until visibility lists n journeys for query.
func waitQuery(t *testing.T, s *apptest.Stack, query string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err == nil && len(resp.GetExecutions()) >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("visibility does not list %d journeys for %s: %v", n, query, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
