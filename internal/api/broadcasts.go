package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/workflows"
)

// Broadcasts is what the broadcast endpoints read from the store: the
// segment a broadcast names, and the deliveries of its journeys.
type Broadcasts interface {
	Segment(ctx context.Context, name string) (store.Segment, error)
	workflows.DeliveryCounter
}

// BroadcastRequest is the body of POST /v1/broadcasts.
type BroadcastRequest struct {
	// ID becomes the broadcast's id: a repeated request with the same ID
	// starts nothing. Empty: a new id.
	ID string `json:"id,omitempty"`
	// Journey names the journey (a built-in: otp, ...).
	Journey string `json:"journey"`
	// Segment names the segment whose contacts get the journey.
	Segment string `json:"segment"`
	// Vars fill the journey's params, the same for every contact.
	Vars map[string]string `json:"vars,omitempty"`
	// Rate is the most journeys started per second (default 50).
	Rate float64 `json:"rate,omitempty"`
}

// BroadcastResponse answers POST /v1/broadcasts.
type BroadcastResponse struct {
	ID string `json:"id"`
	// Created is false when a broadcast with this id existed already:
	// nothing new was started.
	Created bool `json:"created"`
}

func (s *server) startBroadcast(w http.ResponseWriter, r *http.Request) error {
	var req BroadcastRequest
	if e := decode(w, r, s.opts.MaxBodyBytes, &req); e != nil {
		return e
	}
	in, err := s.broadcastInput(r.Context(), req)
	if err != nil {
		return err
	}
	if req.ID == "" {
		req.ID = workflows.NewBroadcastID(req.Journey, req.Segment)
	} else if err := workflows.CheckBroadcastID(req.ID); err != nil {
		return errorf(http.StatusBadRequest, CodeInvalidField, "field id: %v", err)
	}
	ctx, cancel := s.context(r)
	defer cancel()
	_, existed, err := workflows.StartBroadcast(ctx, s.opts.Client, req.ID, in)
	if err != nil {
		return s.failBroadcast(req.ID, err)
	}
	w.Header().Set("Location", Prefix+"/broadcasts/"+url.PathEscape(req.ID))
	writeJSON(w, http.StatusAccepted, BroadcastResponse{ID: req.ID, Created: !existed})
	return nil
}

// broadcastInput checks req field by field and returns the broadcast's
// input.
func (s *server) broadcastInput(ctx context.Context, req BroadcastRequest) (workflows.BroadcastInput, error) {
	if s.opts.Broadcasts == nil {
		return workflows.BroadcastInput{}, errorf(http.StatusNotImplemented, CodeBroadcastsOff, "this server has no store: broadcasts are not served")
	}
	if req.Journey == "" {
		return workflows.BroadcastInput{}, errorf(http.StatusBadRequest, CodeMissingField, "field journey is required: the name of the journey to send")
	}
	if req.Segment == "" {
		return workflows.BroadcastInput{}, errorf(http.StatusBadRequest, CodeMissingField, "field segment is required: the name of the segment to send to")
	}
	j, err := s.opts.Journeys(req.Journey)
	if errors.Is(err, ErrUnknownJourney) {
		return workflows.BroadcastInput{}, errorf(http.StatusNotFound, CodeUnknownJourney, "%v", err)
	}
	if err != nil {
		return workflows.BroadcastInput{}, fmt.Errorf("find journey %q: %w", req.Journey, err)
	}
	if err := j.CheckVars(req.Vars); err != nil {
		return workflows.BroadcastInput{}, errorf(http.StatusBadRequest, CodeInvalidField, "field vars: %v", err)
	}
	if req.Rate < 0 {
		return workflows.BroadcastInput{}, errorf(http.StatusBadRequest, CodeInvalidField, "field rate %v: want more than 0 journeys a second", req.Rate)
	}
	if _, err := s.opts.Broadcasts.Segment(ctx, req.Segment); errors.Is(err, store.ErrNotFound) {
		return workflows.BroadcastInput{}, errorf(http.StatusNotFound, CodeUnknownSegment, "no segment %q", req.Segment)
	} else if err != nil {
		return workflows.BroadcastInput{}, fmt.Errorf("find segment %q: %w", req.Segment, err)
	}
	return workflows.BroadcastInput{Journey: req.Journey, Segment: req.Segment, Vars: req.Vars, Rate: req.Rate, At: time.Now().UTC()}, nil
}

func (s *server) broadcastStatus(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ctx, cancel := s.context(r)
	defer cancel()
	st, err := s.readBroadcast(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// readBroadcast returns a broadcast's status with its deliveries.
func (s *server) readBroadcast(ctx context.Context, id string) (workflows.BroadcastStatus, error) {
	var d workflows.DeliveryCounter
	if s.opts.Broadcasts != nil {
		d = s.opts.Broadcasts
	}
	st, err := workflows.GetBroadcastStatus(ctx, s.opts.Client, d, id)
	if err != nil {
		return workflows.BroadcastStatus{}, s.failBroadcast(id, err)
	}
	return st, nil
}

// steerBroadcast returns the handler of a pause, resume or cancel.
func steerBroadcast(update string) func(*server, http.ResponseWriter, *http.Request) error {
	return func(s *server, w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		ctx, cancel := s.context(r)
		defer cancel()
		st, err := workflows.SteerBroadcast(ctx, s.opts.Client, id, update)
		var te *workflows.TransitionError
		if errors.As(err, &te) {
			return errorf(http.StatusConflict, CodeBroadcastTransition, "%s", te.Msg)
		}
		if err != nil {
			return s.failBroadcast(id, err)
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

// failBroadcast turns the error of a Temporal call about broadcast id into
// the answer: an id of no workflow, or of one that answers no broadcast
// query, is 404.
func (s *server) failBroadcast(id string, err error) error {
	var (
		notFound    *serviceerror.NotFound
		queryFailed *serviceerror.QueryFailed
	)
	if errors.As(err, &notFound) || errors.As(err, &queryFailed) {
		return errorf(http.StatusNotFound, CodeBroadcastNotFound, "no broadcast with id %q", id)
	}
	if e := temporalError(id, err); e != nil {
		return e
	}
	return err
}
