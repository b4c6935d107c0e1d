package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchbackhq/switchback/channels"
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
// guidance on its error codes page. It returns Unknown for codes that page
// does not list.
func Classify(code int) Class {
	switch {
	case code >= 200 && code <= 299:
		return Configuration
	}
	switch code {
	// Transient: retry with backoff.
	case 1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004:
		return Retryable
	// Account or configuration.
	case 0, 3, 10, 190, 368, 131031, 131042, 131045:
		return Configuration
	// Permanent for this message or recipient.
	case 33, 100, 130403, 130472, 130497, 131005, 131008, 131009, 131021,
		131026, 131037, 131047, 131048, 131049, 131050, 131051, 131052,
		131053, 131063, 131064, 132000, 132001, 132005, 132007, 132012,
		132015, 132016, 133016:
		return Permanent
	}
	return Unknown
}

// Class returns the class of e: Classify(e.Code), or for codes Meta does not
// document, Retryable on HTTP 429 and 5xx and Permanent otherwise.
func (e *APIError) Class() Class {
	if c := Classify(e.Code); c != Unknown {
		return c
	}
	return classifyStatus(e.HTTPStatus)
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

// responseError turns a non-2xx response into a SendError.
func responseError(status int, body []byte) *channels.SendError {
	var er errorResponse
	if err := json.Unmarshal(body, &er); err != nil || er.Error == nil {
		// Not the Graph API's JSON: a proxy, a load balancer, an outage page.
		reason := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		if snippet := strings.TrimSpace(string(body)); snippet != "" {
			if len(snippet) > 200 {
				snippet = snippet[:200] + "..."
			}
			reason += ": " + snippet
		}
		err := fmt.Errorf("whatsapp api: unexpected %s", reason)
		return sendError("http_"+strconv.Itoa(status), reason, classifyStatus(status) == Retryable, false, err)
	}
	e := er.Error
	apiErr := &APIError{
		HTTPStatus: status,
		Code:       e.Code,
		Subcode:    e.ErrorSubcode,
		Type:       e.Type,
		Message:    e.Message,
		Details:    e.ErrorData.Details,
		FBTraceID:  e.FBTraceID,
	}
	reason := apiErr.Details
	if reason == "" {
		reason = apiErr.Message
	}
	class := apiErr.Class()
	return sendError(strconv.Itoa(apiErr.Code), reason, class == Retryable, class == Configuration, apiErr)
}
