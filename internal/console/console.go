// Package console serves the Switchback Console under /console: pages
// for support and product teams, server-rendered with html/template and
// assets embedded in the binary, so that nothing beyond Go builds or runs
// it. Reading pages work with JavaScript off.
//
// Pages: a customer found by number or email (the contact, consent,
// suppressions, the 24-hour window, reachability per channel, and every
// journey of the contact), a journey (its timeline drawn as an SVG, one
// lane per channel, and as a table; cancel and send an event), the
// journeys filtered by journey, outcome, channel and start time, the
// WhatsApp template registry with its sync action, and the reports (the
// funnel per journey, step and channel, fallbacks by reason, failure
// codes, delivery latency, template quality; their CSV is `report
// --csv`'s).
//
// Access: a login exchanges the console token for a signed session cookie
// (the server keeps no state); a trusted user header set by an SSO proxy
// replaces the login; under `dev`, callers on this machine need none.
// Every form that changes something carries a CSRF token bound to the
// session, and every action is logged with who did it.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/httpauth"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
)

// Prefix is the path under which the console is served.
const Prefix = "/console"

// DefaultSessionTTL is how long a login lasts by default.
const DefaultSessionTTL = 12 * time.Hour

// Store is what the console reads of the store.
type Store interface {
	Contact(ctx context.Context, key string) (store.Contact, error)
	ContactByEmail(ctx context.Context, email string) (store.Contact, error)
	ConsentHistory(ctx context.Context, contactKey string) ([]store.Consent, error)
	Suppressions(ctx context.Context, contactKey string) ([]store.Suppression, error)
	Reachabilities(ctx context.Context, contactKey string) ([]store.Reachability, error)
	LastInbound(ctx context.Context, contactKey string, ch channels.Channel) (time.Time, error)
	Events(ctx context.Context, f store.EventFilter) ([]store.MessageEvent, error)
}

// Options configure the console.
type Options struct {
	// Client reaches Temporal: visibility, queries, cancel, signals.
	Client client.Client
	// DataConverter decodes journey inputs read from histories (the
	// client's, which decrypts payloads). Nil: the SDK's default.
	DataConverter converter.DataConverter
	// Namespace is the journeys' namespace, for links to the Web UI.
	Namespace string
	// Store is Switchback's store.
	Store Store
	// ContactKey is the secret of contact keys (journeys.ContactKey).
	ContactKey []byte
	// Channels is the channel registry: the lanes and the rows of
	// reachability, in its order.
	Channels *channels.Registry
	// Token is SWITCHBACK_CONSOLE_TOKEN, which the login page exchanges
	// for a session cookie.
	Token string
	// UserHeader, if set, names a request header that a trusted SSO proxy
	// sets to the user's name: a request carrying it needs no login. Safe
	// only when every request passes that proxy.
	UserHeader string
	// Exempt, if set, reports the requests that need no login: `dev`
	// passes httpauth.Local.
	Exempt func(*http.Request) bool
	// SecureCookie marks the session cookie Secure: set it when the
	// console is served over https.
	SecureCookie bool
	// TemporalUIURL is the Web UI's base URL for links to workflows
	// (empty: no link).
	TemporalUIURL string
	// SessionTTL is how long a login lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// LoginFailures and LoginWindow limit wrong tokens: past LoginFailures
	// from one client within LoginWindow, its logins are answered 429
	// until the oldest leaves the window (defaults DefaultLoginFailures,
	// DefaultLoginWindow).
	LoginFailures int
	LoginWindow   time.Duration
	// Logger receives the action log (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// PageSize is how many journeys a list shows at once (default
	// JourneysPerPage).
	PageSize int
	// Templates is the WhatsApp template registry (nil: the templates
	// page says there is none).
	Templates *templates.Registry
	// TemplateSync says where the templates page's sync reads templates
	// from; nil when WhatsApp is not configured (the page says so).
	TemplateSync *templates.SyncConfig
}

// Console is the console's handler.
type Console struct {
	opts  Options
	log   *slog.Logger
	sess  *sessions
	limit *loginLimiter
	pages map[string]*template.Template
	mux   *http.ServeMux
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the console. Without a token, a user header or an Exempt
// rule, every page answers 503 naming SWITCHBACK_CONSOLE_TOKEN.
func New(opts Options) (http.Handler, error) {
	if opts.Token == "" && opts.UserHeader == "" && opts.Exempt == nil {
		return http.HandlerFunc(disabled), nil
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{
		opts: opts, log: opts.Logger.With("component", "console"), pages: pages,
		sess:  &sessions{key: sessionKey(opts.Token), ttl: opts.SessionTTL, secure: opts.SecureCookie, now: opts.Now},
		limit: newLoginLimiter(opts.LoginFailures, opts.LoginWindow, opts.Now),
	}
	c.routes()
	return c, nil
}

func disabled(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "The Switchback Console is off: set SWITCHBACK_CONSOLE_TOKEN (or SWITCHBACK_CONSOLE_USER_HEADER behind an SSO proxy) to turn it on.", http.StatusServiceUnavailable)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	m := http.NewServeMux()
	m.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix+"/login", c.loginPage)
	m.HandleFunc("POST "+Prefix+"/login", c.login)
	m.HandleFunc("POST "+Prefix+"/logout", c.authed(c.logout))
	m.HandleFunc("GET "+Prefix+"/{$}", c.authed(c.home))
	m.HandleFunc("GET "+Prefix+"/customers", c.authed(c.home)) // the search form: a number never travels in a URL
	m.HandleFunc("POST "+Prefix+"/customers", c.authed(c.findCustomer))
	m.HandleFunc("GET "+Prefix+"/customers/{key}", c.authed(c.customer))
	m.HandleFunc("POST "+Prefix+"/customers/{key}/reveal", c.authed(c.reveal))
	m.HandleFunc("GET "+Prefix+"/journeys/{id}", c.authed(c.journey))
	m.HandleFunc("GET "+Prefix+"/journeys/{id}/cancel", c.authed(c.confirmCancel))
	m.HandleFunc("POST "+Prefix+"/journeys/{id}/cancel", c.authed(c.cancel))
	m.HandleFunc("POST "+Prefix+"/journeys/{id}/events", c.authed(c.sendEvent))
	m.HandleFunc("GET "+Prefix+"/definitions", c.authed(c.definitions))
	m.HandleFunc("GET "+Prefix+"/definitions/{name}", c.authed(c.definition))
	m.HandleFunc("GET "+Prefix+"/journeys", c.authed(c.journeysList))
	m.HandleFunc("GET "+Prefix+"/templates", c.authed(c.templatesPage))
	m.HandleFunc("POST "+Prefix+"/templates/sync", c.authed(c.syncTemplates))
	m.HandleFunc("GET "+Prefix+"/reports", c.authed(c.reports))
	m.HandleFunc("GET "+Prefix+"/reports.csv", c.authed(c.reportsCSV))
	m.Handle(Prefix, http.RedirectHandler(Prefix+"/", http.StatusMovedPermanently))
	c.mux = m
}

// ServeHTTP serves the console, with headers that keep its pages out of
// caches and frames and allow no script.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// caller is who makes a request, and the session its forms are bound to.
type caller struct {
	who  string
	sess session
}

// handlerFunc is a console handler that knows its caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, who caller)

// authed admits the callers that identify answers for, checks the CSRF
// token of every POST, and sends the others to the login page (a GET) or
// away (a POST).
func (c *Console) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := c.identify(w, r)
		if !ok {
			c.refuse(w, r)
			return
		}
		if r.Method == http.MethodPost && !c.sess.checkCSRF(who.sess, r.PostFormValue("csrf")) {
			c.log.Warn("console request refused: CSRF token missing or wrong", "who", who.who, "path", r.URL.Path)
			http.Error(w, "The form's CSRF token is missing or wrong (an old page?): reload the page and try again.", http.StatusForbidden)
			return
		}
		h(w, r, who)
	}
}

// identify returns the caller of r: the user the trusted header names,
// "local" for a request that Exempt accepts, or "token" for a login
// session. The first two get a session cookie to bind their forms to.
func (c *Console) identify(w http.ResponseWriter, r *http.Request) (caller, bool) {
	if c.opts.UserHeader != "" {
		if u := strings.TrimSpace(r.Header.Get(c.opts.UserHeader)); u != "" {
			return c.bind(w, r, u), true
		}
	}
	if c.opts.Exempt != nil && c.opts.Exempt(r) {
		return c.bind(w, r, whoLocal), true
	}
	if ss, ok := c.sess.fromRequest(r); ok && ss.kind == kindToken {
		return caller{who: whoToken, sess: ss}, true
	}
	return caller{}, false
}

// bind returns who with r's session, or a new one set on w.
func (c *Console) bind(w http.ResponseWriter, r *http.Request, who string) caller {
	ss, ok := c.sess.fromRequest(r)
	if !ok {
		ss = c.sess.newSession(kindBind)
		http.SetCookie(w, c.sess.cookie(ss))
	}
	return caller{who: who, sess: ss}
}

// refuse answers a caller without identity: the login page when a token
// can log in, an explanation otherwise.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request) {
	switch {
	case c.opts.Token == "" && c.opts.UserHeader != "":
		http.Error(w, "Sign in through your SSO proxy: this request carries no "+c.opts.UserHeader+" header.", http.StatusUnauthorized)
	case c.opts.Token == "":
		// dev without a token: Exempt refused it.
		http.Error(w, "Without SWITCHBACK_CONSOLE_TOKEN the console answers only requests from this machine that name it (localhost or a loopback address): not a tunnel, a proxy or another host name.", http.StatusForbidden)
	case r.Method == http.MethodGet:
		http.Redirect(w, r, Prefix+"/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	default:
		http.Error(w, "Log in first: "+Prefix+"/login", http.StatusUnauthorized)
	}
}

// loginPage shows the login form.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.opts.Token == "" {
		http.Error(w, "No login here: SWITCHBACK_CONSOLE_TOKEN is not set.", http.StatusNotFound)
		return
	}
	c.renderLogin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

type loginData struct {
	Next  string
	Error string
	// CSRF binds the form to the browser's bind session: a page on
	// another site cannot log the browser in under the operator's token
	// (login CSRF).
	CSRF string
}

// renderLogin shows the login form, bound to r's session (a new bind
// session when it has none).
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	who := c.bind(w, r, "")
	c.render(w, status, "login", page{Title: "Log in", Data: loginData{Next: next, Error: problem, CSRF: c.sess.csrf(who.sess)}})
}

// login exchanges the token for a session cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if c.opts.Token == "" {
		http.Error(w, "No login here: SWITCHBACK_CONSOLE_TOKEN is not set.", http.StatusNotFound)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if ss, ok := c.sess.fromRequest(r); !ok || !c.sess.checkCSRF(ss, r.PostFormValue("csrf")) {
		c.log.Warn("console login refused: no or wrong CSRF token", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusForbidden, next, "The form had expired or came from another page: log in again.")
		return
	}
	if wait := c.limit.wait(r); wait > 0 {
		c.log.Warn("console login refused: too many wrong tokens", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		c.renderLogin(w, r, http.StatusTooManyRequests, next, "Too many wrong tokens from here: try again in "+wait.Round(time.Second).String()+".")
		return
	}
	if !httpauth.TokenEqual(r.PostFormValue("token"), c.opts.Token) {
		c.limit.fail(r)
		c.log.Warn("console login refused: wrong token", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusUnauthorized, next, "That is not the console token.")
		return
	}
	c.limit.succeed(r)
	http.SetCookie(w, c.sess.cookie(c.sess.newSession(kindToken)))
	c.log.Info("console login", "who", whoToken, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, who caller) {
	http.SetCookie(w, c.sess.clearCookie())
	c.log.Info("console logout", "who", who.who)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

// safeNext returns next when it is a console path, the console's home
// otherwise: a login never sends the browser elsewhere.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Prefix + "/"
}

// action logs what who did.
func (c *Console) action(who caller, action string, attrs ...any) {
	c.log.Info("console action", append([]any{"action", action, "who", who.who}, attrs...)...)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, who caller) {
	c.render(w, http.StatusOK, "home", c.page(who, "Find a customer", nil))
}
