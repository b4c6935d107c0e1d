package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/internal/sendhttp"
)

// APIError is an error the Graph API returned for a send, in its documented
// shape: {"error": {"message", "type", "code", "error_data": {"details"},
// "error_subcode", "fbtrace_id"}}.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int // deprecated by Meta since v16.0; usually 0
	Type       string
	Message    string // "(#code) title"; Meta deprecates titles
	Details    string // error_data.details, Meta's explanation
	FBTraceID  string
}

// Error describes e with its code, HTTP status, message and details.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp api error %d (HTTP %d)", e.Code, e.HTTPStatus)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Details != "" {
		b.WriteString(": " + e.Details)
	}
	if e.FBTraceID != "" {
		b.WriteString(" (fbtrace_id " + e.FBTraceID + ")")
	}
	return b.String()
}

// Class says what a Cloud API error code means for a send.
type Class int

// Error classes. Unknown is the zero value.
const (
	// Unknown is a code Meta does not document; decide by HTTP status.
	Unknown Class = iota
	// Retryable errors are transient: throughput, rate limits, outages.
	Retryable
	// Permanent errors will fail again for this message and recipient:
	// invalid parameters, templates that do not exist, closed windows,
	// undeliverable numbers, opted-out users.
	Permanent
	// Configuration errors mean the account or its credentials are wrong:
	// expired tokens, missing permissions, restricted accounts. They are
	// permanent and need an operator.
	Configuration
)

// String returns the class's name, such as "retryable".
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case Configuration:
		return "configuration"
	}
	return "unknown"
}

// Classify returns the class of a Cloud API error code, following Meta's
// error codes page and the guidance it gives for each: throughput and rate
// limits are retried with backoff; template, policy, window and recipient
// errors fail this message for good, so the journey falls back; token and
// permission errors are configuration problems. It returns Unknown for
// codes that page does not list. Code 100 depends on its subcode: see
// APIError.Class.
func Classify(code int) Class {
	switch {
	case code >= 200 && code <= 299: // permission not granted or removed
		return Configuration
	}
	switch code {
	case 1, // invalid request or possible server error
		2,      // temporary downtime or overload
		4,      // app API call rate limit
		80007,  // WhatsApp Business Account rate limit
		130429, // Cloud API throughput reached
		131000, // unknown error, try again
		131016, // service temporarily unavailable
		131048, // spam rate limit: too many messages from this number
		131056, // pair rate limit: same sender and recipient too often
		131057, // account in maintenance mode
		133004: // server temporarily unavailable
		return Retryable
	case 0, // app user could not be authenticated
		3,      // capability or permissions issue
		10,     // permission not granted or removed
		190,    // access token expired or invalid
		131042, // payment method problem
		131045: // phone number not registered
		return Configuration
	case 33, // business phone number deleted
		100,    // invalid or misspelled parameter
		368,    // account restricted for a policy violation
		130403, // business has blocked the user
		130472, // held back by an experiment
		130497, // country restricted
		131005, // permission denied for this message
		131008, // required parameter missing
		131009, // parameter value invalid
		131021, // sender and recipient are the same number
		131026, // undeliverable: not a WhatsApp user, old app, terms not accepted
		131031, // account locked: policy violation or unverifiable data
		131037, // display name not approved
		131047, // 24-hour customer service window closed
		131049, // held back for ecosystem engagement
		131050, // user stopped marketing messages
		131051, // unsupported message type
		131052, // media download error
		131053, // media upload error
		131063, // marketing templates disabled
		131064, // messaging limit for template classification violations
		132000, // template parameter count mismatch
		132001, // template does not exist in the language, or not approved
		132005, // translated text too long
		132007, // template content violates a policy
		132012, // template parameter format mismatch
		132015, // template paused for low quality
		132016, // template permanently disabled
		133016: // registration rate limit
		return Permanent
	}
	return Unknown
}

// Class returns the class of e: Classify(e.Code), except that code 100 for
// an object that does not exist or cannot be reached with this token
// (subcode 33, or a GraphMethodException: a wrong phone number ID or a
// token without access to it) is a Configuration error; and, for codes
// Meta does not document, Retryable on HTTP 429 and 5xx and Permanent
// otherwise.
func (e *APIError) Class() Class {
	if e.Code == 100 && (e.Subcode == 33 || e.Type == "GraphMethodException") {
		return Configuration
	}
	if c := Classify(e.Code); c != Unknown {
		return c
	}
	return classifyStatus(e.HTTPStatus)
}

// pairRateLimitWait is how long Meta's pair rate limit (131056) asks for:
// one message every 6 seconds to the same user.
const pairRateLimitWait = 6 * time.Second

// retryAfter returns the wait before retrying se: the response's
// Retry-After if any, else 6s for the pair rate limit, else 0 (the retry
// policy's backoff decides).
func retryAfter(se *channels.SendError, h http.Header, now time.Time) time.Duration {
	if d := sendhttp.RetryAfter(h, now); d > 0 {
		return d
	}
	if se.Code == "131056" {
		return pairRateLimitWait
	}
	return 0
}

// classifyStatus classifies an HTTP status that came without a known code.
func classifyStatus(status int) Class {
	if status == http.StatusTooManyRequests || status >= 500 {
		return Retryable
	}
	return Permanent
}

// errorResponse is the documented error body.
type errorResponse struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		ErrorSubcode int    `json:"error_subcode"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// ParseAPIError decodes a Graph API error body answered with HTTP status.
// It reports false for a body that is not the documented error JSON.
func ParseAPIError(status int, body []byte) (*APIError, bool) {
	var er errorResponse
	if err := json.Unmarshal(body, &er); err != nil || er.Error == nil {
		return nil, false
	}
	e := er.Error
	return &APIError{
		HTTPStatus: status,
		Code:       e.Code,
		Subcode:    e.ErrorSubcode,
		Type:       e.Type,
		Message:    e.Message,
		Details:    e.ErrorData.Details,
		FBTraceID:  e.FBTraceID,
	}, true
}

// responseError turns a non-2xx response into a SendError.
func responseError(status int, body []byte) *channels.SendError {
	apiErr, ok := ParseAPIError(status, body)
	if !ok {
		// Not the Graph API's JSON: a proxy, a load balancer, an outage page.
		reason := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		if snippet := sendhttp.Snippet(body); snippet != "" {
			reason += ": " + snippet
		}
		err := fmt.Errorf("whatsapp api: unexpected %s", reason)
		return sendError("http_"+strconv.Itoa(status), reason, classifyStatus(status) == Retryable, false, err)
	}
	reason := apiErr.Details
	if reason == "" {
		reason = apiErr.Message
	}
	class := apiErr.Class()
	return sendError(strconv.Itoa(apiErr.Code), reason, class == Retryable, class == Configuration, apiErr)
}
