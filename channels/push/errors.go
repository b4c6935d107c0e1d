package push

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// The @type of the error details FCM sends.
const (
	typeFcmError   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	typeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
)

// errorBody is FCM's error answer.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// outcome is what one token's send came to.
type outcome int

const (
	accepted  outcome = iota
	retired           // the token is no longer valid: stop using it
	permanent         // the message will not go as it is (a bad payload)
	config            // Switchback's credentials or project are wrong
	retryable         // worth trying again, after RetryAfter
	unknown           // written, no answer: FCM may have it
)

// tokenResult is the outcome of one token's send.
type tokenResult struct {
	outcome outcome
	// name is FCM's message name, when accepted.
	name string
	// code and reason explain a failure; reason holds no token.
	code, reason string
	retryAfter   time.Duration
	err          error
}

// classify reads FCM's error answer: the FcmError code first, then the
// HTTP status.
func classify(status int, h http.Header, body []byte, now time.Time) tokenResult {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // an unreadable body leaves the status to go by
	r := tokenResult{code: eb.Error.Status, reason: eb.Error.Message}
	tokenField := false
	for _, d := range eb.Error.Details {
		switch d.Type {
		case typeFcmError:
			if d.ErrorCode != "" {
				r.code = d.ErrorCode
			}
		case typeBadRequest:
			for _, v := range d.FieldViolations {
				tokenField = tokenField || v.Field == "message.token"
			}
		}
	}
	if r.reason == "" {
		r.reason = sendhttp.Snippet(body)
	}
	if r.code == "" {
		r.code = "http_" + strconv.Itoa(status)
	}
	r.outcome = outcomeOf(r.code, status, tokenField)
	if r.outcome == retryable {
		r.retryAfter = sendhttp.RetryAfter(h, now)
	}
	return r
}

// outcomeOf classifies an FCM error code, then an HTTP status. A bare 404
// (no UNREGISTERED code) is a wrong project or URL, not a dead token:
// retiring on it would wipe every contact's tokens.
func outcomeOf(code string, status int, tokenField bool) outcome {
	switch code {
	case CodeUnregistered, "SENDER_ID_MISMATCH":
		return retired
	case "INVALID_ARGUMENT":
		if tokenField {
			return retired
		}
		return permanent
	case "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL":
		return retryable
	case "THIRD_PARTY_AUTH_ERROR":
		return config
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		return config
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return retryable
	}
	return permanent
}

// sendError is the SendError of a token result that failed.
func (r tokenResult) sendError(retiredTokens []string) *channels.SendError {
	se := sendhttp.SendError(Channel, Provider, r.code, r.reason, r.outcome == retryable || r.outcome == unknown, r.outcome == config, r.err)
	if r.outcome == unknown {
		se.Permanent, se.Unknown = false, true
	}
	se.RetryAfter = r.retryAfter
	se.Retired = retiredTokens
	return se
}
