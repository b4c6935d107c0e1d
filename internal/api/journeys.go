package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/push"
	"github.com/switchbackhq/switchback/journeys"
)

// StartRequest is the body of POST /v1/journeys.
type StartRequest struct {
	// Journey names the journey definition (a built-in: otp, ...).
	Journey string `json:"journey"`
	// To is the recipient's phone number, E.164.
	To string `json:"to"`
	// Email is the recipient's address, for email attempts.
	Email string `json:"email,omitempty"`
	// PushTokens are the device tokens of the recipient's app installs,
	// for push attempts.
	PushTokens []string `json:"push_tokens,omitempty"`
	// TimeZone is the recipient's IANA time zone, for quiet hours.
	TimeZone string `json:"timezone,omitempty"`
	// Vars fill the journey's params.
	Vars map[string]string `json:"vars,omitempty"`
}

// StartResponse answers POST /v1/journeys.
type StartResponse struct {
	// ID is the journey's workflow id: the Idempotency-Key when one was sent.
	ID    string `json:"id"`
	RunID string `json:"run_id"`
	// Created is false when the Idempotency-Key had already started this
	// journey: nothing new was sent.
	Created bool `json:"created"`
}

// EventRequest is the body of POST /v1/journeys/{id}/events; its fields
// are those of journeys.EventInput.
type EventRequest struct {
	Name string            `json:"name"`
	Vars map[string]string `json:"vars,omitempty"`
	// ID deduplicates: an event with an ID the journey has seen is ignored.
	ID string `json:"id,omitempty"`
	// Start, if set, starts the journey with the path's id first when it
	// is not running (signal-with-start), so that an event that comes
	// before its journey is never lost.
	Start *StartRequest `json:"start,omitempty"`
}

// EventResponse answers POST /v1/journeys/{id}/events.
type EventResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// VerifyRequest is the body of POST /v1/journeys/{id}/verify.
type VerifyRequest struct {
	// Code is the code the customer typed.
	Code string `json:"code"`
}

// VerifyResponse answers POST /v1/journeys/{id}/verify.
type VerifyResponse struct {
	ID string `json:"id"`
	journeys.VerifyResult
}

// TimelineResponse answers GET /v1/journeys/{id}.
type TimelineResponse struct {
	ID string `json:"id"`
	journeys.Timeline
}

// CancelResponse answers DELETE /v1/journeys/{id}.
type CancelResponse struct {
	ID              string `json:"id"`
	CancelRequested bool   `json:"cancel_requested"`
}

// IdempotencyKeyHeader names the header whose value becomes the workflow id
// of a start, as the CLI's --id does.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxKeyLen bounds an Idempotency-Key (Temporal takes workflow ids up to
// 1000 bytes).
const maxKeyLen = 255

func (s *server) start(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get(IdempotencyKeyHeader)
	if e := checkKey(key, r.Header.Values(IdempotencyKeyHeader)); e != nil {
		return e
	}
	var req StartRequest
	if e := decode(w, r, s.opts.MaxBodyBytes, &req); e != nil {
		return e
	}
	opts, err := s.startOptions(req, key)
	if err != nil {
		return err
	}
	ctx, cancel := s.context(r)
	defer cancel()
	run, existed, err := journeys.Start(ctx, s.opts.Client, opts)
	if err != nil {
		return s.fail(ctx, key, err)
	}
	if !existed {
		w.Header().Set("Location", Prefix+"/journeys/"+url.PathEscape(run.GetID()))
		writeJSON(w, http.StatusCreated, StartResponse{ID: run.GetID(), RunID: run.GetRunID(), Created: true})
		return nil
	}
	runID, same, err := s.sameStart(ctx, key, opts)
	if err != nil {
		return s.fail(ctx, key, err)
	}
	if !same {
		return errorf(http.StatusConflict, CodeIdempotencyKeyReused,
			"Idempotency-Key %q already started a journey with a different request; use a new key for a new journey", key)
	}
	w.Header().Set("Location", Prefix+"/journeys/"+url.PathEscape(key))
	writeJSON(w, http.StatusOK, StartResponse{ID: key, RunID: runID, Created: false})
	return nil
}

// checkKey checks an Idempotency-Key: one header, printable ASCII without
// spaces, at most maxKeyLen bytes. Empty: no key.
func checkKey(key string, all []string) *Error {
	if len(all) > 1 {
		return errorf(http.StatusBadRequest, CodeInvalidHeader, "send one Idempotency-Key header, not %d", len(all))
	}
	if len(key) > maxKeyLen {
		return errorf(http.StatusBadRequest, CodeInvalidHeader, "Idempotency-Key is %d bytes long; at most %d", len(key), maxKeyLen)
	}
	for _, c := range []byte(key) {
		if c <= ' ' || c > '~' {
			return errorf(http.StatusBadRequest, CodeInvalidHeader, "Idempotency-Key may hold printable ASCII characters only, no spaces")
		}
	}
	return nil
}

// startOptions checks req field by field, naming the field at fault, and
// returns the options of its start.
func (s *server) startOptions(req StartRequest, id string) (journeys.StartOptions, error) {
	if req.Journey == "" {
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeMissingField, "field journey is required: the name of the journey to start")
	}
	j, err := s.opts.Journeys(req.Journey)
	if errors.Is(err, ErrUnknownJourney) {
		return journeys.StartOptions{}, errorf(http.StatusNotFound, CodeUnknownJourney, "%v", err)
	}
	if err != nil {
		return journeys.StartOptions{}, fmt.Errorf("find journey %q: %w", req.Journey, err)
	}
	if req.To == "" {
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeMissingField, "field to is required: the recipient's phone number, E.164 (+15551234567)")
	}
	if err := journeys.CheckRecipient(req.To); err != nil {
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeInvalidField, "field to: %v", err)
	}
	var missing *journeys.MissingParamsError
	if err := j.CheckVars(req.Vars); errors.As(err, &missing) {
		names := make([]string, len(missing.Missing))
		for i, n := range missing.Missing {
			names[i] = "vars." + n
		}
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeMissingField, "journey %q needs %s", req.Journey, strings.Join(names, ", "))
	} else if err != nil {
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeInvalidField, "field vars: %v", err)
	}
	if req.TimeZone != "" {
		if _, err := time.LoadLocation(req.TimeZone); err != nil {
			return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeInvalidField, "field timezone: unknown IANA time zone %q", req.TimeZone)
		}
	}
	for i, tok := range req.PushTokens {
		if err := push.CheckToken(tok); err != nil {
			return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeInvalidField, "field push_tokens[%d]: %v", i, err)
		}
	}
	opts := journeys.StartOptions{Journey: j, To: req.To, Email: req.Email, PushTokens: req.PushTokens, TimeZone: req.TimeZone, Vars: req.Vars, Channels: s.opts.Channels,
		ID: id, ContactKey: s.opts.ContactKey}
	// What is left to check: the email address.
	if err := opts.Check(); err != nil {
		return journeys.StartOptions{}, errorf(http.StatusBadRequest, CodeInvalidField, "field email: %v", err)
	}
	return opts, nil
}

// sameStart reports whether the journey id was started with the same
// journey, recipient and variables as opts, reading the input of its first
// event, and returns its run id.
func (s *server) sameStart(ctx context.Context, id string, opts journeys.StartOptions) (runID string, same bool, err error) {
	st, err := journeys.ReadStart(ctx, s.opts.Client, s.dc, id)
	if errors.Is(err, journeys.ErrNotJourney) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%w (is Options.DataConverter the client's?)", err)
	}
	in := st.Input
	same = in.Journey.Name == opts.Journey.Name && in.To == opts.To && in.Email == opts.Email &&
		slices.Equal(in.PushTokens, opts.PushTokens) && in.TimeZone == opts.TimeZone && maps.Equal(in.Vars, opts.Vars)
	return st.RunID, same, nil
}

func (s *server) event(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req EventRequest
	if e := decode(w, r, s.opts.MaxBodyBytes, &req); e != nil {
		return e
	}
	if req.Name == "" {
		return errorf(http.StatusBadRequest, CodeMissingField, "field name is required: the event's name, e.g. order_shipped")
	}
	ev := journeys.EventInput{Name: req.Name, Vars: req.Vars, ID: req.ID}
	var opts journeys.StartOptions
	if req.Start != nil {
		var err error
		opts, err = s.startOptions(*req.Start, id)
		var e *Error
		if errors.As(err, &e) {
			e.Message = "start: " + e.Message
		}
		if err != nil {
			return err
		}
	}
	ctx, cancel := s.context(r)
	defer cancel()
	// The event is checked against the journey that will get it: the one
	// running, else the one start starts.
	j := opts.Journey
	st, err := journeys.ReadStart(ctx, s.opts.Client, s.dc, id)
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		j = st.Input.Journey
	case errors.Is(err, journeys.ErrNotJourney):
		return journeyNotFound(id)
	case !errors.As(err, &notFound) || req.Start == nil:
		return s.fail(ctx, id, err)
	}
	if e := eventParamsError(j.CheckEvent(ev)); e != nil {
		return e
	}
	if req.Start != nil {
		_, err = journeys.SignalWithStart(ctx, s.opts.Client, opts, ev)
	} else {
		err = journeys.Signal(ctx, s.opts.Client, id, ev)
	}
	if err != nil {
		return s.fail(ctx, id, err)
	}
	writeJSON(w, http.StatusAccepted, EventResponse{ID: id, Name: req.Name})
	return nil
}

// eventParamsError is the answer to an event that its journey would
// ignore, naming the vars at fault; nil for err nil.
func eventParamsError(err error) error {
	var pe *journeys.EventVarsError
	if !errors.As(err, &pe) {
		return err
	}
	var problems []string
	if len(pe.Missing) > 0 {
		names := make([]string, len(pe.Missing))
		for i, n := range pe.Missing {
			names[i] = "vars." + n
		}
		problems = append(problems, "needs "+strings.Join(names, ", "))
	}
	if pe.Invalid != nil {
		problems = append(problems, "vars: "+pe.Invalid.Error())
	}
	return errorf(http.StatusUnprocessableEntity, CodeEventIgnored, "journey %q would ignore event %q: %s; nothing was sent",
		pe.Journey, pe.Event, strings.Join(problems, "; "))
}

func (s *server) verify(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req VerifyRequest
	if e := decode(w, r, s.opts.MaxBodyBytes, &req); e != nil {
		return e
	}
	if req.Code == "" {
		return errorf(http.StatusBadRequest, CodeMissingField, "field code is required: the code the customer typed")
	}
	ctx, cancel := s.context(r)
	defer cancel()
	st, err := s.describe(ctx, id)
	if err != nil {
		return err
	}
	if !st.Running() {
		return journeyEnded(id, st.Outcome)
	}
	res, err := journeys.Verify(ctx, s.opts.Client, id, req.Code)
	var refused *temporal.ApplicationError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, VerifyResponse{ID: id, VerifyResult: res})
		return nil
	case errors.As(err, &refused) && strings.HasPrefix(refused.Message(), "unknown update"):
		return errorf(http.StatusUnprocessableEntity, CodeNotVerifiable, "journey %q checks no code", id)
	case errors.As(err, &refused):
		return errorf(http.StatusUnprocessableEntity, CodeVerifyRefused, "journey %q refused the check: %s", id, refused.Message())
	}
	return s.fail(ctx, id, err)
}

func (s *server) timeline(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ctx, cancel := s.context(r)
	defer cancel()
	tl, err := journeys.ReadTimeline(ctx, s.opts.Client, s.opts.Events, id)
	if err != nil {
		return s.fail(ctx, id, err)
	}
	writeJSON(w, http.StatusOK, TimelineResponse{ID: id, Timeline: tl})
	return nil
}

func (s *server) cancel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ctx, cancel := s.context(r)
	defer cancel()
	st, err := s.describe(ctx, id)
	if err != nil {
		return err
	}
	switch st.Status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		if err := journeys.Cancel(ctx, s.opts.Client, id); err != nil {
			return s.fail(ctx, id, err)
		}
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		// Canceled already: a retried DELETE gets the same answer.
	default:
		return journeyEnded(id, st.Outcome)
	}
	writeJSON(w, http.StatusAccepted, CancelResponse{ID: id, CancelRequested: true})
	return nil
}

// describe returns the state of the journey id; an id that names no
// journey, or a workflow of another type, is 404.
func (s *server) describe(ctx context.Context, id string) (journeys.State, error) {
	st, err := journeys.Describe(ctx, s.opts.Client, id)
	if errors.Is(err, journeys.ErrNotJourney) {
		return journeys.State{}, journeyNotFound(id)
	}
	if e := temporalError(id, err); e != nil {
		return journeys.State{}, e
	}
	return st, err
}

// fail turns the error of a Temporal call about journey id into the answer:
// a journey that is not found may have ended, which Temporal reports as
// not found too.
func (s *server) fail(ctx context.Context, id string, err error) error {
	var ended *journeys.EndedError
	if errors.As(journeys.CheckEnded(ctx, s.opts.Client, id, err), &ended) {
		return journeyEnded(id, ended.Outcome)
	}
	if e := temporalError(id, err); e != nil {
		return e
	}
	return err
}

// journeyEnded answers a call that needs a running journey.
func journeyEnded(id string, outcome journeys.Outcome) *Error {
	return errorf(http.StatusUnprocessableEntity, CodeJourneyEnded, "journey %q has ended (outcome %s)", id, outcome)
}

// context bounds the Temporal calls of r.
func (s *server) context(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opts.Timeout)
}

// builtin finds a built-in journey, as the CLI's start does.
func builtin(name string, reg *channels.Registry) (journeys.Journey, error) {
	if !slices.Contains(journeys.BuiltinNames(), name) {
		return journeys.Journey{}, fmt.Errorf("%w %q (built-in journeys: %s)", ErrUnknownJourney, name, strings.Join(journeys.BuiltinNames(), ", "))
	}
	return journeys.Builtin(name, reg)
}
