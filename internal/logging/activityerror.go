package logging

import (
	"errors"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
)

// ReasonClassKey is the attribute that names the reason class of an
// activity error logged below ERROR (see Handler).
const ReasonClassKey = "reason_class"

// The reason classes of activity errors that are a journey's expected
// outcome rather than a fault: the journey falls back to its next attempt.
const (
	// ReasonPermanent: a provider refused the send for good (a number not
	// on WhatsApp, an invalid number, an opted-out recipient). Logged at
	// INFO.
	ReasonPermanent = "permanent"
	// ReasonTemplate: the template is missing, not approved, or takes other
	// parameters (a pre-send check's code "template_...", or a Cloud API
	// template error 132xxx). Logged at WARN: the journey falls back, and
	// the template wants fixing.
	ReasonTemplate = "template"
	// ReasonUnknownOutcome: no answer came from the provider, which may have
	// taken the message; the journey waits for its status. Logged at WARN.
	ReasonUnknownOutcome = "unknown_outcome"
)

// sdkActivityError is the message of the Temporal SDK worker's record of
// an activity that returned an error, which it logs at ERROR.
const sdkActivityError = "Activity error."

// expectedActivityError reports whether r is the SDK's record of an
// activity error that is an expected outcome, and if so the level it is
// logged at and its reason class: a send error that is not retried (a
// non-retryable ApplicationError caused by a channels.SendError) unless it
// is a configuration problem, which needs a person and stays at ERROR, as
// every other error does.
func expectedActivityError(r slog.Record) (level slog.Level, class string, ok bool) {
	if r.Message != sdkActivityError || r.Level < slog.LevelError {
		return 0, "", false
	}
	var err error
	r.Attrs(func(a slog.Attr) bool {
		if v := a.Value.Resolve(); v.Kind() == slog.KindAny {
			err, _ = v.Any().(error)
		}
		return err == nil
	})
	var appErr *temporal.ApplicationError
	var se *channels.SendError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !errors.As(err, &se) {
		return 0, "", false
	}
	switch {
	case se.Config:
		return 0, "", false
	case se.Unknown:
		return slog.LevelWarn, ReasonUnknownOutcome, true
	case strings.HasPrefix(se.Code, "template_") || se.Channel == channels.WhatsApp && strings.HasPrefix(se.Code, "132"):
		return slog.LevelWarn, ReasonTemplate, true
	case se.Permanent:
		return slog.LevelInfo, ReasonPermanent, true
	}
	return 0, "", false
}
