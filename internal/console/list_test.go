package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
)

// threeChannels is the registry of the production channels.
func threeChannels() *channels.Registry {
	return channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{})
}

func TestJourneysListQueriesTheFilter(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, Channels: threeChannels()})
	c := tc.login(t)
	w := tc.do(http.MethodGet, "/console/journeys?journey=otp&outcome=verified&channel=sms&from=2026-12-01T09:30&to=2026-12-01T18:00", nil, []*http.Cookie{c}, nil)
	want := "WorkflowType = 'Journey' AND SwitchbackJourney = 'otp' AND SwitchbackOutcome = 'verified' AND SwitchbackChannel = 'sms'" +
		" AND StartTime >= '2026-12-01T09:30:00Z' AND StartTime <= '2026-12-01T18:00:00Z'"
	if len(tc.queries) != 1 || tc.queries[0] != want {
		t.Fatalf("visibility queries %q, want [%q]", tc.queries, want)
	}
	body := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("list = %d, without the query shown:\n%s", w.Code, body)
	}
	// The form keeps the filter.
	for _, field := range []string{`value="otp"`, `value="verified" selected`, `value="sms" selected`, `value="2026-12-01T09:30"`} {
		if !strings.Contains(body, field) {
			t.Errorf("the form lacks %s", field)
		}
	}

	// No filter: every journey, and nothing else.
	tc.do(http.MethodGet, "/console/journeys", nil, []*http.Cookie{c}, nil)
	if got := tc.queries[len(tc.queries)-1]; got != "WorkflowType = 'Journey'" {
		t.Errorf("unfiltered query %q", got)
	}
}

func TestJourneysListRefusesBadFilters(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, Channels: threeChannels()})
	c := tc.login(t)
	for q, want := range map[string]string{
		"journey=" + url.QueryEscape(`otp" OR 1=1`):             `journey "otp\" OR 1=1"`,
		"journey=" + url.QueryEscape(`otp' OR 'a'='a`):          "a journey name is lower-case letters",
		"outcome=" + url.QueryEscape(`verified' OR 'a'='a`):     "want one of running, delivered",
		"channel=" + url.QueryEscape(`sms' OR WorkflowId != '`): "want one of whatsapp, sms, email",
		"from=yesterday": `from "yesterday" is not a time`,
		"from=2026-12-02T00:00&to=2026-12-01T00:00":                  "ends (2026-12-01 00:00:00Z) before it begins",
		"page=" + url.QueryEscape("not base64!") + "&outcome=failed": "bad page token",
	} {
		w := tc.do(http.MethodGet, "/console/journeys?"+q, nil, []*http.Cookie{c}, nil)
		body := html.UnescapeString(w.Body.String())
		if w.Code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s = %d, want a refusal saying %q:\n%s", q, w.Code, want, body)
		}
	}
	for _, q := range tc.queries {
		t.Errorf("a refused filter reached visibility: %q", q)
	}
}

func TestQuoteEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"otp":          "'otp'",
		`a'b`:          `'a\'b'`,
		`a\' OR 1=1 -`: `'a\\\' OR 1=1 -'`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// memTemplates keeps a template registry in memory.
type memTemplates struct {
	rows []store.Template
}

func (m *memTemplates) ReplaceTemplates(_ context.Context, _ string, ts []store.Template, at time.Time) error {
	m.rows = nil
	for _, t := range ts {
		t.SyncedAt = at
		m.rows = append(m.rows, t)
	}
	return nil
}
func (m *memTemplates) ListTemplates(context.Context) ([]store.Template, error) { return m.rows, nil }
func (m *memTemplates) SetTemplateStatus(context.Context, string, string, store.TemplateStatus) error {
	return store.ErrNotFound
}

func TestTemplatesPageWithoutWhatsApp(t *testing.T) {
	reg := templates.NewRegistry(&memTemplates{})
	synced := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	err := reg.Replace(context.Background(), "waba-1", []templates.Template{{
		Name: "order_shipped", Language: "en_US", Category: "UTILITY", Status: "APPROVED", Quality: "GREEN",
		Components: []templates.Component{{Type: "BODY", Text: "Order {{1}} ships on {{2}}.", Params: 2}},
	}}, synced)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestConsole(t, Options{Token: testToken, Templates: reg})
	c := tc.login(t)
	w := tc.do(http.MethodGet, "/console/templates", nil, []*http.Cookie{c}, nil)
	body := html.UnescapeString(w.Body.String())
	for _, want := range []string{NoTemplateSync, "order_shipped", "UTILITY", "APPROVED", "GREEN", "body 2", "2026-11-29 08:00:00Z"} {
		if !strings.Contains(body, want) {
			t.Errorf("templates page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `id="sync"`) {
		t.Error("a sync button without WhatsApp settings")
	}
	csrf := csrfOf(t, body)
	if w := tc.do(http.MethodPost, "/console/templates/sync", url.Values{"csrf": {csrf}}, []*http.Cookie{c}, nil); w.Code != http.StatusConflict ||
		!strings.Contains(html.UnescapeString(w.Body.String()), NoTemplateSync) {
		t.Errorf("sync without WhatsApp = %d, want 409 saying why", w.Code)
	}
}
