package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.temporal.io/api/serviceerror"
)

// Error is the error every /v1 endpoint answers with, as the body
// {"error": {"code": ..., "message": ...}}. Code is a stable snake_case
// word that callers branch on; Message says in words what is wrong.
type Error struct {
	// Status is the HTTP status of the answer.
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// cause is the failure behind a 5xx, for the log; never sent.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the failure behind the error, if any.
func (e *Error) Unwrap() error { return e.cause }

// ErrorResponse is the JSON body of an error answer.
type ErrorResponse struct {
	Error *Error `json:"error"`
}

// Error codes. Each goes with one HTTP status.
const (
	CodeInvalidJSON          = "invalid_json"           // 400: the body is not one JSON object
	CodeUnknownField         = "unknown_field"          // 400: the body has a field the endpoint does not take
	CodeMissingField         = "missing_field"          // 400: a required field or journey variable is missing
	CodeInvalidField         = "invalid_field"          // 400: a field has the wrong type or an invalid value
	CodeInvalidHeader        = "invalid_header"         // 400: a header has an invalid value
	CodeUnauthorized         = "unauthorized"           // 401: no or wrong bearer token
	CodeNotFound             = "not_found"              // 404: no such endpoint
	CodeUnknownJourney       = "unknown_journey"        // 404: no journey definition of that name
	CodeJourneyNotFound      = "journey_not_found"      // 404: no journey with that id
	CodeBroadcastNotFound    = "broadcast_not_found"    // 404: no broadcast with that id
	CodeUnknownSegment       = "unknown_segment"        // 404: no segment of that name
	CodeMethodNotAllowed     = "method_not_allowed"     // 405: the endpoint does not take this method
	CodeIdempotencyKeyReused = "idempotency_key_reused" // 409: the key started a journey with another request
	CodeBroadcastTransition  = "broadcast_transition"   // 409: the broadcast's phase does not allow the pause, resume or cancel
	CodeBodyTooLarge         = "body_too_large"         // 413: the body exceeds MaxBodyBytes
	CodeUnsupportedMedia     = "unsupported_media_type" // 415: the body is not application/json
	CodeJourneyEnded         = "journey_ended"          // 422: the journey has ended
	CodeEventIgnored         = "event_ignored"          // 422: the journey would ignore the event: its vars lack or mistype a param its handler needs
	CodeNotVerifiable        = "not_verifiable"         // 422: the journey checks no code
	CodeVerifyRefused        = "verify_refused"         // 422: the journey refused the check (expired, no checks left, ...)
	CodeInternal             = "internal"               // 500: a bug; the log has the details
	CodeBroadcastsOff        = "broadcasts_not_served"  // 501: the server has no store for broadcasts
	CodeNotConfigured        = "api_not_configured"     // 503: SWITCHBACK_API_TOKEN is not set
	CodeTemporalUnavailable  = "temporal_unavailable"   // 503: Temporal did not answer; retry
)

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// journeyNotFound answers a call about an id that names no journey.
func journeyNotFound(id string) *Error {
	return errorf(http.StatusNotFound, CodeJourneyNotFound, "no journey with id %q", id)
}

// temporalError turns an error of a Temporal call about journey id into
// the answer for the caller. It returns nil for an error it does not know:
// the caller answers 500.
func temporalError(id string, err error) *Error {
	var (
		notFound    *serviceerror.NotFound
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		exhausted   *serviceerror.ResourceExhausted
		canceled    *serviceerror.Canceled
	)
	switch {
	case errors.As(err, &notFound):
		return journeyNotFound(id)
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &exhausted),
		errors.As(err, &canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e := errorf(http.StatusServiceUnavailable, CodeTemporalUnavailable,
			"Temporal did not answer in time; retry the request (a start with the same Idempotency-Key starts nothing twice)")
		e.cause = err
		return e
	}
	return nil
}
