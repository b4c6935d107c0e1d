// Package api serves Switchback's HTTP API under /v1, for backends that
// have no Temporal SDK: start a journey, send it an event, verify a code,
// read its timeline, cancel it; start a broadcast of a journey to a
// segment, read its progress, pause, resume or cancel it. It calls the
// same helpers of packages journeys and workflows as the CLI, so both
// behave alike.
//
// Every endpoint but GET /v1/openapi.json needs "Authorization: Bearer
// <token>". Errors are JSON: {"error": {"code": ..., "message": ...}}.
// A start with an Idempotency-Key uses the key as the journey's workflow
// id, so a retried start never starts or sends twice:
//
//	curl -H "Authorization: Bearer $SWITCHBACK_API_TOKEN" -H "Idempotency-Key: signup-42" \
//	  -H "Content-Type: application/json" -d '{"journey":"otp","to":"+15551234567","vars":{"code":"493817"}}' \
//	  http://127.0.0.1:8080/v1/journeys
package api

import (
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/httpauth"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/workflows"
)

// Prefix is the path under which the API is served; mount the handler New
// returns on Prefix + "/".
const Prefix = "/v1"

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// DefaultTimeout bounds the Temporal calls of one request when
// Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// ErrUnknownJourney is what an Options.Journeys lookup returns, wrapped,
// for a name it does not know: the API answers 404 unknown_journey.
var ErrUnknownJourney = errors.New("unknown journey")

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the API, as served at
// GET /v1/openapi.json.
func OpenAPI() []byte { return slices.Clone(openAPI) }

// Options configure New.
type Options struct {
	// Client is the Temporal client journeys are started and steered with.
	Client client.Client
	// DataConverter is Client's data converter (with its payload codec when
	// payloads are encrypted); the API decodes a journey's input with it to
	// tell a repeated start from a different one. Nil: the SDK's default.
	DataConverter converter.DataConverter
	// Token is the bearer token every call must carry
	// (SWITCHBACK_API_TOKEN). Empty: every call but the OpenAPI document is
	// refused with 503, unless Exempt.
	Token string
	// Exempt, if set, reports the calls served without a token. Only `dev`
	// sets it, to httpauth.Local.
	Exempt func(*http.Request) bool
	// ContactKey keys the contact hash of started journeys, as in
	// journeys.StartOptions.
	ContactKey []byte
	// Journeys finds a journey definition by name; an unknown name is an
	// error wrapping ErrUnknownJourney. Nil: the built-in journeys, as the
	// CLI's start finds them.
	Journeys func(name string) (journeys.Journey, error)
	// Channels are the channels journeys are checked against (the
	// worker's: app.Channels). Nil: journeys are taken as they are found.
	Channels *channels.Registry
	// Broadcasts has the segments broadcasts name and counts their
	// deliveries. Nil: POST /v1/broadcasts answers 501, and a broadcast's
	// status has no deliveries.
	Broadcasts Broadcasts
	// Events is the message event log: a journey's timeline shows the
	// statuses the webhooks recorded there instead of signalling them.
	// Nil: the journey's own timeline only.
	Events journeys.EventLog
	// Logger receives server-side failures (5xx). Nil: discarded.
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body. Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Timeout bounds the Temporal calls of one request; a call that takes
	// longer answers 503. Zero: DefaultTimeout.
	Timeout time.Duration
}

// route is one endpoint: a ServeMux pattern and its handler.
type route struct {
	pattern string
	handle  func(*server, http.ResponseWriter, *http.Request) error
	// public routes need no token.
	public bool
}

// routes returns every endpoint of the API; openapi.json documents each.
func routes() []route {
	return []route{
		{pattern: "GET /v1/openapi.json", handle: (*server).openAPI, public: true},
		{pattern: "POST /v1/journeys", handle: (*server).start},
		{pattern: "GET /v1/journeys/{id}", handle: (*server).timeline},
		{pattern: "DELETE /v1/journeys/{id}", handle: (*server).cancel},
		{pattern: "POST /v1/journeys/{id}/events", handle: (*server).event},
		{pattern: "POST /v1/journeys/{id}/verify", handle: (*server).verify},
		{pattern: "POST /v1/broadcasts", handle: (*server).startBroadcast},
		{pattern: "GET /v1/broadcasts/{id}", handle: (*server).broadcastStatus},
		{pattern: "POST /v1/broadcasts/{id}/pause", handle: steerBroadcast(workflows.UpdatePause)},
		{pattern: "POST /v1/broadcasts/{id}/resume", handle: steerBroadcast(workflows.UpdateResume)},
		{pattern: "POST /v1/broadcasts/{id}/cancel", handle: steerBroadcast(workflows.UpdateCancel)},
	}
}

// server holds the settled options of one handler.
type server struct {
	opts Options
	dc   converter.DataConverter
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the handler of the API, serving the paths under Prefix.
func New(opts Options) http.Handler {
	s := &server{opts: opts, dc: opts.DataConverter, log: opts.Logger, mux: http.NewServeMux()}
	if s.dc == nil {
		s.dc = converter.GetDefaultDataConverter()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Journeys == nil {
		s.opts.Journeys = func(name string) (journeys.Journey, error) { return builtin(name, s.opts.Channels) }
	}
	if s.opts.MaxBodyBytes <= 0 {
		s.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.opts.Timeout <= 0 {
		s.opts.Timeout = DefaultTimeout
	}
	for _, rt := range routes() {
		s.mux.Handle(rt.pattern, s.endpoint(rt))
	}
	return s
}

// ServeHTTP routes r, answering JSON errors where ServeMux would answer
// its plain-text 404 and 405.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405 (with its Allow header).
	rec := &statusRecorder{header: http.Header{}}
	s.mux.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s does not take %s (allowed: %s)",
			r.URL.Path, r.Method, rec.header.Get("Allow")))
		return
	}
	writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s %s; see GET %s/openapi.json", r.Method, r.URL.Path, Prefix))
}

// endpoint wraps a route's handler with authentication and error answers.
func (s *server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.public {
			if e := s.authenticate(r); e != nil {
				if e.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="switchback"`)
				}
				writeError(w, e)
				return
			}
		}
		err := rt.handle(s, w, r)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			s.log.Error("api: unexpected failure", "method", r.Method, "path", r.URL.Path, "error", err)
			e = errorf(http.StatusInternalServerError, CodeInternal, "the request failed on the server; the log has the details")
		} else if e.Status >= 500 {
			s.log.Warn("api: request failed", "method", r.Method, "path", r.URL.Path, "error_code", e.Code, "error", err)
		}
		if e.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		writeError(w, e)
	})
}

// authenticate checks r's bearer token in constant time.
func (s *server) authenticate(r *http.Request) *Error {
	if s.opts.Exempt != nil && s.opts.Exempt(r) {
		return nil
	}
	if s.opts.Token == "" {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured,
			"the API is closed: the operator must set SWITCHBACK_API_TOKEN to the bearer token callers send")
	}
	if r.Header.Get("Authorization") == "" {
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "missing Authorization: Bearer <token> header")
	}
	token, ok := httpauth.Bearer(r)
	if !ok {
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "the Authorization header must be Bearer <token>")
	}
	if !httpauth.TokenEqual(token, s.opts.Token) {
		return errorf(http.StatusUnauthorized, CodeUnauthorized, "wrong bearer token")
	}
	return nil
}

func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPI)
	return err
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, ErrorResponse{Error: e})
}

// statusRecorder keeps the status and header a handler writes, and drops
// its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (rec *statusRecorder) Header() http.Header { return rec.header }

func (rec *statusRecorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return len(p), nil
}

func (rec *statusRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}
