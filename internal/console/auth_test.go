package console

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/httpauth"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

const testToken = "s3cret-console-token"

// fakeStore knows one contact.
type fakeStore struct{ contact store.Contact }

func (f fakeStore) Contact(_ context.Context, key string) (store.Contact, error) {
	if key == f.contact.Key {
		return f.contact, nil
	}
	return store.Contact{}, store.ErrNotFound
}
func (f fakeStore) ContactByEmail(_ context.Context, email string) (store.Contact, error) {
	if email != "" && email == f.contact.Email {
		return f.contact, nil
	}
	return store.Contact{}, store.ErrNotFound
}
func (fakeStore) ConsentHistory(context.Context, string) ([]store.Consent, error) { return nil, nil }
func (fakeStore) Suppressions(context.Context, string) ([]store.Suppression, error) {
	return nil, nil
}
func (fakeStore) Reachabilities(context.Context, string) ([]store.Reachability, error) {
	return nil, nil
}
func (fakeStore) Events(context.Context, store.EventFilter) ([]store.MessageEvent, error) {
	return nil, nil
}
func (fakeStore) LastInbound(context.Context, string, channels.Channel) (time.Time, error) {
	return time.Time{}, store.ErrNotFound
}

// fakeClient lists no journeys, and records the queries it was asked.
type fakeClient struct {
	client.Client
	queries *[]string
}

func (f fakeClient) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	*f.queries = append(*f.queries, req.GetQuery())
	return &workflowservice.ListWorkflowExecutionsResponse{}, nil
}

var secret = []byte("test contact secret")

// testConsole is a console on fakes, with its clock and log.
type testConsole struct {
	h       http.Handler
	now     time.Time
	log     bytes.Buffer
	queries []string
}

func newTestConsole(t *testing.T, opts Options) *testConsole {
	t.Helper()
	tc := &testConsole{now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	number := "+15557654321"
	if opts.Store == nil {
		opts.Store = fakeStore{store.Contact{Key: journeys.ContactKey(secret, number), Number: number, Email: "ana@example.com"}}
	}
	opts.Client = fakeClient{queries: &tc.queries}
	opts.ContactKey = secret
	if opts.Channels == nil {
		opts.Channels = channels.MustRegistry()
	}
	opts.Now = func() time.Time { return tc.now }
	opts.Logger = slog.New(slog.NewTextHandler(&tc.log, nil))
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tc.h = h
	return tc
}

// do serves a request from a remote address with cookies, and a form for
// a POST.
func (tc *testConsole) do(method, target string, form url.Values, cookies []*http.Cookie, header http.Header) *httptest.ResponseRecorder {
	var r *http.Request
	if method == http.MethodPost {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RemoteAddr = "203.0.113.9:40000"
	for k, v := range header {
		r.Header[k] = v
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	tc.h.ServeHTTP(w, r)
	return w
}

// postLogin posts form to the login page as a browser does: with the bind
// cookie and the CSRF token of the login form it was shown.
func (tc *testConsole) postLogin(t *testing.T, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	page := tc.do(http.MethodGet, "/console/login", nil, nil, nil)
	form.Set("csrf", csrfOf(t, page.Body.String()))
	return tc.do(http.MethodPost, "/console/login", form, []*http.Cookie{sessionCookie(t, page)}, nil)
}

// login logs in with the token and returns the session cookie.
func (tc *testConsole) login(t *testing.T) *http.Cookie {
	t.Helper()
	w := tc.postLogin(t, url.Values{"token": {testToken}, "next": {"/console/customers"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/customers" {
		t.Fatalf("login = %d to %q, want 303 to /console/customers", w.Code, w.Header().Get("Location"))
	}
	return sessionCookie(t, w)
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", CookieName, w.Result().Cookies())
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the forms of a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", body)
	}
	return m[1]
}

func TestDisabledWithoutToken(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/console/", "/console/login", "/console/journeys/x"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "SWITCHBACK_CONSOLE_TOKEN") {
			t.Errorf("GET %s = %d %q, want 503 naming SWITCHBACK_CONSOLE_TOKEN", target, w.Code, w.Body)
		}
	}
}

func TestLoginSetsASessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		tc := newTestConsole(t, Options{Token: testToken, SecureCookie: secure})
		// Without a session: to the login page, remembering where to.
		w := tc.do(http.MethodGet, "/console/customers/abc", nil, nil, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/login?next=%2Fconsole%2Fcustomers%2Fabc" {
			t.Fatalf("without login = %d to %q", w.Code, w.Header().Get("Location"))
		}
		c := tc.login(t)
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || c.Path != "/console/" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Secure=%v, Path /console/", c, secure)
		}
		if want := tc.now.Add(DefaultSessionTTL); !c.Expires.Equal(want) || c.MaxAge != int(DefaultSessionTTL.Seconds()) {
			t.Errorf("cookie expires %v (max-age %d), want %v", c.Expires, c.MaxAge, want)
		}
		if strings.Contains(c.Value, testToken) {
			t.Error("the cookie holds the token")
		}
		w = tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{c}, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "signed in: token") {
			t.Errorf("home with the cookie = %d %q", w.Code, w.Body)
		}
		if !strings.Contains(tc.log.String(), "console login") {
			t.Errorf("the login is not logged: %s", tc.log.String())
		}
	}
}

func TestLoginRefusesABadToken(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken})
	for _, tok := range []string{"", "wrong", testToken + "x"} {
		w := tc.postLogin(t, url.Values{"token": {tok}})
		if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
			t.Errorf("login with %q = %d, cookies %v; want 401 and none", tok, w.Code, w.Result().Cookies())
		}
	}
	// The right token from a form this browser was not shown (login CSRF):
	// no session.
	for _, form := range []url.Values{{"token": {testToken}}, {"token": {testToken}, "csrf": {"forged"}}} {
		w := tc.do(http.MethodPost, "/console/login", form, nil, nil)
		if w.Code != http.StatusForbidden {
			t.Errorf("login without its form's CSRF token (%v) = %d, want 403", form, w.Code)
		}
		if home := tc.do(http.MethodGet, "/console/", nil, w.Result().Cookies(), nil); home.Code != http.StatusSeeOther {
			t.Errorf("the cookies of a refused login sign in: home = %d", home.Code)
		}
	}
	if !strings.Contains(tc.log.String(), "console login refused") || strings.Contains(tc.log.String(), testToken) {
		t.Errorf("refusals are not logged, or the log holds the token: %s", tc.log.String())
	}
	// A forged or altered cookie is no login.
	good := tc.login(t)
	for _, v := range []string{"x.y", good.Value[:len(good.Value)-2] + "AA", "AAAA" + good.Value[4:]} {
		w := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{{Name: CookieName, Value: v}}, nil)
		if w.Code != http.StatusSeeOther {
			t.Errorf("cookie %q = %d, want 303 to login", v, w.Code)
		}
	}
	// Another token's session is no login either.
	other := newTestConsole(t, Options{Token: "another token"})
	w := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{other.login2(t)}, nil)
	if w.Code != http.StatusSeeOther {
		t.Errorf("another token's session = %d, want 303", w.Code)
	}
}

// login2 logs into a console whose token is "another token".
func (tc *testConsole) login2(t *testing.T) *http.Cookie {
	t.Helper()
	return sessionCookie(t, tc.postLogin(t, url.Values{"token": {"another token"}}))
}

func TestLoginNeverRedirectsAway(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken})
	for _, next := range []string{"//evil.example/console/", "https://evil.example/", "/elsewhere", "/console/\\evil"} {
		w := tc.postLogin(t, url.Values{"token": {testToken}, "next": {next}})
		if got := w.Header().Get("Location"); got != "/console/" {
			t.Errorf("next %q: redirected to %q, want /console/", next, got)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, SessionTTL: time.Hour})
	c := tc.login(t)
	tc.now = tc.now.Add(59 * time.Minute)
	if w := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{c}, nil); w.Code != http.StatusOK {
		t.Fatalf("before expiry = %d, want 200", w.Code)
	}
	tc.now = tc.now.Add(time.Minute)
	if w := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{c}, nil); w.Code != http.StatusSeeOther {
		t.Errorf("at expiry = %d, want 303 to login", w.Code)
	}
}

func TestPostsNeedTheSessionsCSRFToken(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken})
	c := tc.login(t)
	page := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{c}, nil)
	token := csrfOf(t, page.Body.String())
	otherPage := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{tc.login(t)}, nil)
	otherToken := csrfOf(t, otherPage.Body.String())
	if otherToken == token {
		t.Fatal("two sessions have the same CSRF token")
	}
	for name, form := range map[string]url.Values{
		"no token":                {"q": {"+15557654321"}},
		"wrong token":             {"q": {"+15557654321"}, "csrf": {"bm90LWEtdG9rZW4"}},
		"another session's token": {"q": {"+15557654321"}, "csrf": {otherToken}},
	} {
		w := tc.do(http.MethodPost, "/console/customers", form, []*http.Cookie{c}, nil)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("%s: %d %q, want 403 naming CSRF", name, w.Code, w.Body)
		}
	}
	// A logged-out POST is refused before its token is looked at.
	if w := tc.do(http.MethodPost, "/console/customers", url.Values{"csrf": {token}}, nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("POST without session = %d, want 401", w.Code)
	}
	w := tc.do(http.MethodPost, "/console/customers", url.Values{"q": {"+1 555 765 4321"}, "csrf": {token}}, []*http.Cookie{c}, nil)
	want := "/console/customers/" + journeys.ContactKey(secret, "+15557654321")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != want {
		t.Errorf("search with the token = %d to %q, want 303 to %s", w.Code, w.Header().Get("Location"), want)
	}
}

func TestLocalRuleUnderDev(t *testing.T) {
	tc := newTestConsole(t, Options{Exempt: httpauth.Local})
	serve := func(remote, host string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/console/", nil)
		r.RemoteAddr = remote
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		return w
	}
	w := serve("127.0.0.1:5000", "localhost:8080")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "signed in: local") {
		t.Fatalf("local = %d, want 200 signed in as local", w.Code)
	}
	bound := sessionCookie(t, w)
	for _, c := range []struct{ remote, host string }{
		{"127.0.0.1:5000", "switchback.example.com"}, // a tunnel or proxy
		{"127.0.0.1:5000", "attacker.example:8080"},  // DNS rebinding
		{"192.0.2.7:5000", "localhost:8080"},         // another machine
	} {
		w := serve(c.remote, c.host, bound)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "SWITCHBACK_CONSOLE_TOKEN") {
			t.Errorf("%s naming %s = %d, want 403 naming SWITCHBACK_CONSOLE_TOKEN", c.remote, c.host, w.Code)
		}
	}
	// A local caller's forms still need the CSRF token.
	r := httptest.NewRequest(http.MethodPost, "http://localhost:8080/console/customers", strings.NewReader("q=%2B15557654321"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "127.0.0.1:5000"
	r.AddCookie(bound)
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("local POST without CSRF = %d, want 403", rec.Code)
	}
}

func TestLocalSessionIsNoLogin(t *testing.T) {
	// With a token and the local rule, the cookie a local caller got does
	// not let a remote caller in.
	tc := newTestConsole(t, Options{Token: testToken, Exempt: httpauth.Local})
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/console/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	tc.h.ServeHTTP(w, r)
	bound := sessionCookie(t, w)
	if w := tc.do(http.MethodGet, "/console/", nil, []*http.Cookie{bound}, nil); w.Code != http.StatusSeeOther {
		t.Errorf("remote with a local session = %d, want 303 to login", w.Code)
	}
}

func TestUserHeaderNamesWhoActs(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, UserHeader: "X-Forwarded-User"})
	hdr := http.Header{"X-Forwarded-User": {"alice@corp.example"}}
	w := tc.do(http.MethodGet, "/console/", nil, nil, hdr)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "signed in: alice@corp.example") {
		t.Fatalf("with the user header = %d, want 200 signed in as alice", w.Code)
	}
	c, token := sessionCookie(t, w), csrfOf(t, w.Body.String())
	key := journeys.ContactKey(secret, "+15557654321")
	w = tc.do(http.MethodGet, "/console/customers/"+key, nil, []*http.Cookie{c}, hdr)
	if body := html.UnescapeString(w.Body.String()); w.Code != http.StatusOK || strings.Contains(body, "+15557654321") || strings.Contains(body, "ana@example.com") {
		t.Fatalf("customer page = %d, or shows the number or email before the click:\n%s", w.Code, w.Body)
	}
	w = tc.do(http.MethodPost, "/console/customers/"+key+"/reveal", url.Values{"csrf": {token}}, []*http.Cookie{c}, hdr)
	if w.Code != http.StatusOK || !strings.Contains(html.UnescapeString(w.Body.String()), "+15557654321") {
		t.Fatalf("reveal = %d, want the number shown", w.Code)
	}
	log := tc.log.String()
	if !strings.Contains(log, `action="reveal number" who=alice@corp.example contact_key=`+key) || strings.Contains(log, "+15557654321") {
		t.Errorf("the reveal is not logged with who did it, or the log holds the number:\n%s", log)
	}
	if want := "SwitchbackContact = '" + key + "'"; len(tc.queries) == 0 || tc.queries[0] != want {
		t.Errorf("visibility queries %q, want %q", tc.queries, want)
	}
	// Without the header, the token login is needed.
	if w := tc.do(http.MethodGet, "/console/", nil, nil, nil); w.Code != http.StatusSeeOther {
		t.Errorf("without the header = %d, want 303 to login", w.Code)
	}
}

func TestEmailFindsTheContact(t *testing.T) {
	tc := newTestConsole(t, Options{UserHeader: "X-User"})
	hdr := http.Header{"X-User": {"bo"}}
	w := tc.do(http.MethodGet, "/console/", nil, nil, hdr)
	c, token := sessionCookie(t, w), csrfOf(t, w.Body.String())
	for q, want := range map[string]string{
		" ANA@example.com ":  journeys.ContactKey(secret, "+15557654321"),
		"nobody@example.com": journeys.ContactKey(secret, "nobody@example.com"),
	} {
		w := tc.do(http.MethodPost, "/console/customers", url.Values{"q": {q}, "csrf": {token}}, []*http.Cookie{c}, hdr)
		if got := w.Header().Get("Location"); got != "/console/customers/"+want {
			t.Errorf("%q: to %q, want the page of %s", q, got, want)
		}
	}
	w = tc.do(http.MethodPost, "/console/customers", url.Values{"q": {"555-1234"}, "csrf": {token}}, []*http.Cookie{c}, hdr)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "not a phone number or an email address") {
		t.Errorf("a national number = %d, want 422 explaining", w.Code)
	}
}

// Past LoginFailures wrong tokens within LoginWindow, a client's logins
// are answered 429 with Retry-After, even with the right token, until the
// oldest failure leaves the window; a success forgets the failures.
func TestLoginLimitsWrongTokens(t *testing.T) {
	tc := newTestConsole(t, Options{Token: testToken, LoginFailures: 3, LoginWindow: 10 * time.Minute})
	for i := range 3 {
		if w := tc.postLogin(t, url.Values{"token": {"guess"}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d = %d, want 401", i, w.Code)
		}
		tc.now = tc.now.Add(time.Minute)
	}
	w := tc.postLogin(t, url.Values{"token": {testToken}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "421" || len(w.Result().Cookies()) > 1 {
		t.Fatalf("login after 3 wrong tokens = %d, Retry-After %q: want 429 after 421 s and no session", w.Code, w.Header().Get("Retry-After"))
	}
	tc.now = tc.now.Add(7*time.Minute + time.Second) // the first failure leaves the window
	if w := tc.postLogin(t, url.Values{"token": {testToken}}); w.Code != http.StatusSeeOther {
		t.Fatalf("login once the window moved = %d, want 303", w.Code)
	}
	for i := range 2 {
		if w := tc.postLogin(t, url.Values{"token": {"guess"}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d after a success = %d, want 401: a success forgets the failures", i, w.Code)
		}
	}
}
