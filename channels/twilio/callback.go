package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	tclient "github.com/twilio/twilio-go/client"

	"github.com/switchbackhq/switchback/channels"
)

// SignatureHeader is the HTTP header that carries a callback's signature.
const SignatureHeader = "X-Twilio-Signature"

// VerifySignature reports whether signature, the X-Twilio-Signature header,
// is Twilio's signature of a POST to fullURL with the form body body, signed
// with authToken. fullURL must be the URL exactly as Twilio called it,
// scheme, host, path and query included (behind a proxy, rebuild it from
// X-Forwarded-Proto and X-Forwarded-Host); body must be the raw bytes, read
// before any form parsing. It uses twilio-go's RequestValidator, which also
// tries the URL with and without the default port.
func VerifySignature(authToken, fullURL string, body []byte, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	v := tclient.NewRequestValidator(authToken)
	return v.ValidateBody(fullURL, body, signature)
}

// ErrMalformedCallback is wrapped by every error of ParseStatusCallback.
var ErrMalformedCallback = errors.New("malformed twilio status callback")

// ParseStatusCallback reads a Twilio status callback: query is the callback
// URL's query, which carries the correlation Send appended to it, and form
// is the POST form. It returns the status update, and the correlation with
// true if the query carried a valid one.
//
// MessageSid and MessageStatus (or the legacy SmsSid and SmsStatus) are
// required. Twilio's statuses map to Switchback's: queued, accepted and
// scheduled to accepted; sending and sent to sent; delivered; read; failed,
// undelivered and canceled to failed. Any other status is an error. Twilio's
// callbacks carry no event time, so the update's Timestamp is 0.
func ParseStatusCallback(query, form url.Values) (channels.StatusUpdate, channels.Correlation, bool, error) {
	sid := firstOf(form, "MessageSid", "SmsSid")
	if sid == "" {
		return channels.StatusUpdate{}, channels.Correlation{}, false, fmt.Errorf("%w: no MessageSid", ErrMalformedCallback)
	}
	raw := firstOf(form, "MessageStatus", "SmsStatus")
	if raw == "" {
		return channels.StatusUpdate{}, channels.Correlation{}, false, fmt.Errorf("%w: no MessageStatus", ErrMalformedCallback)
	}
	status, ok := mapStatus(raw)
	if !ok {
		return channels.StatusUpdate{}, channels.Correlation{}, false, fmt.Errorf("%w: unknown MessageStatus %q", ErrMalformedCallback, raw)
	}
	u := channels.StatusUpdate{Provider: Provider, MessageID: sid, Status: status}
	if code := form.Get("ErrorCode"); code != "" {
		u.ErrorCode = code
		u.ErrorReason = errorTitle(code)
	}
	corr, hasCorr := correlation(query)
	if hasCorr {
		u.Attempt = corr.Attempt
	}
	return u, corr, hasCorr, nil
}

// correlation reads sb_wf and sb_attempt. Anything but a workflow ID and a
// positive attempt counts as no correlation.
func correlation(query url.Values) (channels.Correlation, bool) {
	id := query.Get(QueryWorkflowID)
	attempt, err := strconv.Atoi(query.Get(QueryAttempt))
	if id == "" || err != nil || attempt < 1 {
		return channels.Correlation{}, false
	}
	return channels.Correlation{WorkflowID: id, Attempt: attempt}, true
}

func firstOf(form url.Values, keys ...string) string {
	for _, k := range keys {
		if v := form.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// mapStatus maps a Twilio message status to Switchback's.
func mapStatus(s string) (channels.Status, bool) {
	switch s {
	case "queued", "accepted", "scheduled":
		return channels.StatusAccepted, true
	case "sending", "sent":
		return channels.StatusSent, true
	case "delivered":
		return channels.StatusDelivered, true
	case "read":
		return channels.StatusRead, true
	case "failed", "undelivered", "canceled":
		return channels.StatusFailed, true
	}
	return "", false
}

// errorTitle returns the title of Twilio's documentation for a delivery
// error code.
func errorTitle(code string) string {
	switch code {
	case "30003":
		return "Unreachable destination handset"
	case "30004":
		return "Message blocked"
	case "30005":
		return "Unknown destination handset"
	case "30006":
		return "Landline or unreachable carrier"
	case "30007":
		return "Message filtered"
	case "30008":
		return "Unknown error"
	case "63016":
		return "Failed to send freeform message because you are outside the allowed window"
	case "63018":
		return "Rate limit exceeded for Channel"
	case "63038":
		return "Account exceeded the daily messages limit"
	case "63049":
		return "Meta chose not to deliver this WhatsApp marketing message"
	}
	return "Twilio error " + code
}
