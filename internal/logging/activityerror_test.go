package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchbackhq/switchback/channels"
)

// sendError returns the error the send activity returns for se: a
// non-retryable ApplicationError when se is permanent, else a retryable
// one, both caused by se.
func sendError(se *channels.SendError) error {
	if se.Permanent || se.Config || se.Unknown {
		return temporal.NewNonRetryableApplicationError(se.Error(), "SendError", se)
	}
	return temporal.NewApplicationErrorWithCause(se.Error(), "SendError", se)
}

func TestExpectedActivityErrorLevels(t *testing.T) {
	refused := &channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "21211",
		Reason: "The 'To' number " + phone + " is not a valid phone number.", Permanent: true}
	tests := []struct {
		name      string
		err       error
		level     string
		class     string // "" for none
		levelWarn bool   // still logged when the logger's level is WARN
	}{
		{"permanent", sendError(refused), "INFO", ReasonPermanent, false},
		{"permanent, wrapped", sendError(&channels.SendError{Channel: channels.WhatsApp, Provider: "whatsapp", Code: "131026",
			Reason: "Message undeliverable", Permanent: true, Err: errors.New("api error")}), "INFO", ReasonPermanent, false},
		{"template check", sendError(&channels.SendError{Channel: channels.WhatsApp, Provider: "whatsapp", Code: "template_not_found",
			Reason: `template "otp_code" is not in the registry`, Permanent: true}), "WARN", ReasonTemplate, true},
		{"cloud api template error", sendError(&channels.SendError{Channel: channels.WhatsApp, Provider: "whatsapp", Code: "132001",
			Reason: "template name does not exist in the translation", Permanent: true}), "WARN", ReasonTemplate, true},
		{"unknown outcome", sendError(&channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "timeout",
			Reason: "no answer", Unknown: true}), "WARN", ReasonUnknownOutcome, true},
		{"configuration", sendError(&channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "20003",
			Reason: "Authenticate", Permanent: true, Config: true}), "ERROR", "", true},
		{"retryable", sendError(&channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "http_503",
			Reason: "Service Unavailable"}), "ERROR", "", true},
		{"not a send error", temporal.NewNonRetryableApplicationError("bad input", "InvalidInput", nil), "ERROR", "", true},
		{"plain error", errors.New("boom"), "ERROR", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			// As the SDK's worker logs it, through its slog adapter.
			sdklog.NewStructuredLogger(New(&buf, Options{Format: FormatJSON})).
				Error("Activity error.", "ActivityType", "SendMessage", "Attempt", 1, "Error", tt.err)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if rec["level"] != tt.level || rec["msg"] != "Activity error." {
				t.Errorf("logged %v %q, want %s", rec["level"], rec["msg"], tt.level)
			}
			if got, _ := rec[ReasonClassKey].(string); got != tt.class {
				t.Errorf("%s = %q, want %q", ReasonClassKey, got, tt.class)
			}
			if strings.Contains(buf.String(), phone) {
				t.Errorf("the number is in the log: %s", buf.String())
			}

			buf.Reset()
			New(&buf, Options{Format: FormatJSON, Level: slog.LevelWarn}).Error("Activity error.", "Error", tt.err)
			if logged := buf.Len() > 0; logged != tt.levelWarn {
				t.Errorf("at level WARN, logged = %v, want %v: %s", logged, tt.levelWarn, buf.String())
			}
		})
	}
}

// Other records at ERROR stay there, whatever their error.
func TestOtherErrorsStayErrors(t *testing.T) {
	err := temporal.NewNonRetryableApplicationError("refused", "SendError",
		&channels.SendError{Channel: channels.SMS, Code: "21211", Permanent: true})
	var buf bytes.Buffer
	l := New(&buf, Options{Format: FormatJSON})
	l.Error("send failed", "error", err)
	l.Warn("Activity error.", "error", err) // already below ERROR: left alone
	out := buf.String()
	if !strings.Contains(out, `"level":"ERROR","msg":"send failed"`) || !strings.Contains(out, `"level":"WARN","msg":"Activity error."`) || strings.Contains(out, ReasonClassKey) {
		t.Errorf("levels changed: %s", out)
	}
}

// The SDK's own record of a failed activity, from a real activity task,
// comes out at INFO with its reason class when the provider refused the
// send for good.
func TestSDKActivityErrorIsDowngraded(t *testing.T) {
	var buf bytes.Buffer
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(New(&buf, Options{Format: FormatJSON, Level: slog.LevelInfo})))
	env := s.NewTestActivityEnvironment()
	send := func(context.Context) error {
		return sendError(&channels.SendError{Channel: channels.SMS, Provider: "twilio", Code: "21211",
			Reason: "The 'To' number " + phone + " is not a valid phone number.", Permanent: true})
	}
	env.RegisterActivityWithOptions(send, activity.RegisterOptions{Name: "SendMessage"})
	if _, err := env.ExecuteActivity("SendMessage"); err == nil {
		t.Fatal("the activity did not fail")
	}
	var found bool
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if rec["msg"] != "Activity error." {
			continue
		}
		found = true
		if rec["level"] != "INFO" || rec[ReasonClassKey] != ReasonPermanent {
			t.Errorf("logged at %v with %s %v, want INFO and %q: %s", rec["level"], ReasonClassKey, rec[ReasonClassKey], ReasonPermanent, line)
		}
	}
	if !found {
		t.Fatalf("the SDK logged no %q: %s", "Activity error.", buf.String())
	}
	if strings.Contains(buf.String(), phone) {
		t.Errorf("the number is in the log: %s", buf.String())
	}
}
