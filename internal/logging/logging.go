// Package logging builds Switchback's structured loggers: log/slog, JSON in
// production and text in development, with phone numbers and email addresses
// masked and secrets redacted before anything is written.
//
// Masking happens in a slog.Handler (see Handler), so it covers every record
// that goes through the logger, whatever called it: Switchback's own code,
// the Temporal SDK and the embedded Temporal server.
//
// The forms written are:
//
//   - a phone number keeps its prefix, up to 4 leading digits and the last
//     2; every hidden digit becomes "•", and at least 5 are hidden:
//     "+15551234567" and "+1 (555) 123-4567" become "+1555•••••67",
//     "whatsapp:+15551234567" becomes "whatsapp:+1555•••••67",
//     "%2B15551234567" (URL-encoded) becomes "%2B1555•••••67" and
//     "0044 20 7946 0958" becomes "004420••••••58". Numbers are found in
//     any text in international form ("+", "%2B" or "00", then 7 to 15
//     digits, grouped by spaces, dashes or parentheses), in the North
//     American national forms "(555) 123-4567", "555-123-4567" and
//     "555.123.4567", and bare: a run of 7 to 15 digits that is not part of
//     a word, a decimal or grouped number or a UUID ("15551234567" becomes
//     "1555•••••67"). Shorter runs (ports, years, error codes such as
//     131026, counts) and 10 or 13 digits starting with 1 (Unix times in
//     seconds and milliseconds) are kept, except as the whole value of an
//     attribute named for a number (see Handler).
//   - an email address keeps the first character of its local part and its
//     domain, in any script: "jane.doe@example.com" becomes
//     "j•••@example.com", "josé@bücher.example" becomes "j•••@bücher.example".
//   - a secret becomes "[redacted]": the value of an attribute whose name
//     names a secret, a one-time code or a message's text (code, otp, pin,
//     text, body, vars: see SecretKey), a Bearer or Basic credential
//     ("Bearer [redacted]"), the password of a URL
//     ("postgres://user:[redacted]@host/db") and the value of a name=value
//     pair or JSON member so named ("access_token=[redacted]",
//     "code=[redacted]", {"text": "[redacted]"}).
//
// Masking masked text changes nothing.
package logging

import (
	"io"
	"log/slog"
)

// The log formats that Options.Format names.
const (
	// FormatJSON writes one JSON object per line (slog.JSONHandler).
	FormatJSON = "json"
	// FormatText writes key=value lines (slog.TextHandler).
	FormatText = "text"
)

// Options configure New.
type Options struct {
	// Format is FormatJSON or FormatText. Anything else, including empty,
	// means JSON: the callers choose the development default.
	Format string
	// Level is the minimum level written. Nil means slog.LevelInfo.
	Level slog.Leveler
	// AddSource adds the caller's file and line to each record.
	AddSource bool
}

// New returns a logger that writes records to w in opts.Format, with phone
// numbers and email addresses masked and secrets redacted.
func New(w io.Writer, opts Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: opts.Level, AddSource: opts.AddSource}
	var next slog.Handler
	if opts.Format == FormatText {
		next = slog.NewTextHandler(w, ho)
	} else {
		next = slog.NewJSONHandler(w, ho)
	}
	return slog.New(NewHandler(next))
}
