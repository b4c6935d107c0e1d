package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/journeys"
)

// A backend in another language starts Journey with no search attributes,
// and perhaps with a built-in journey's name in place of its definition:
// the journey sets the attributes itself, the contact key computed by the
// worker, and runs the built-in journey.
func TestJourneySetsItsOwnSearchAttributes(t *testing.T) {
	const to = "+15551234567"
	vars := map[string]string{"code": "493817"}
	all := temporal.NewSearchAttributes(
		journeys.JourneyAttr.ValueSet("otp"),
		journeys.ContactAttr.ValueSet("set-by-the-starter"),
		journeys.OutcomeAttr.ValueSet("running"),
		journeys.ChannelAttr.ValueSet("whatsapp"),
	)
	contact := journeys.ContactKey(testOptions.ContactKey, to)
	tests := []struct {
		name  string
		in    journeys.Input
		attrs temporal.SearchAttributes
		want  string // the first upsert
	}{
		{"by name, no search attributes", journeys.Input{JourneyName: "otp", To: to, Vars: vars}, temporal.SearchAttributes{},
			fmt.Sprintf("SwitchbackContact=%s SwitchbackJourney=otp SwitchbackOutcome=running", contact)},
		{"by definition, no search attributes", journeys.Input{Journey: builtin(t, "otp"), To: to, Vars: vars}, temporal.SearchAttributes{},
			fmt.Sprintf("SwitchbackContact=%s SwitchbackJourney=otp SwitchbackOutcome=running", contact)},
		{"by name, started with its search attributes", journeys.Input{JourneyName: "otp", To: to, Vars: vars}, all,
			"SwitchbackOutcome=verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, morning)
			if err := s.env.SetTypedSearchAttributesOnStart(tt.attrs); err != nil {
				t.Fatal(err)
			}
			var upserts []string
			s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				upserts = append(upserts, keywords(args.Get(0).(temporal.SearchAttributes)))
			}).Return(nil)
			var got []string
			s.verify(5*time.Second, "493817", &got)
			res, tl := s.run(tt.in)
			if res.Outcome != OutcomeVerified || tl.Journey != "otp" {
				t.Errorf("journey %q ended %s, want otp verified", tl.Journey, res.Outcome)
			}
			if len(upserts) == 0 || upserts[0] != tt.want {
				t.Errorf("upserts = %q, want first %q", upserts, tt.want)
			}
		})
	}
}

// keywords lists the keyword search attributes in sa as "name=value",
// sorted by name.
func keywords(sa temporal.SearchAttributes) string {
	var out []string
	for k, v := range sa.GetUntypedValues() {
		out = append(out, fmt.Sprintf("%s=%v", k.GetName(), v))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// A name that is not a built-in journey fails the journey at once, with an
// error that names it and the journeys the worker knows.
func TestJourneyUnknownName(t *testing.T) {
	s := newSim(t, morning)
	s.env.ExecuteWorkflow(journeys.WorkflowType, journeys.Input{JourneyName: "nope", To: "+15551234567"})
	err := s.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != UnknownJourneyType || !appErr.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable %s", err, UnknownJourneyType)
	}
	for _, want := range []string{`"nope"`, "otp", "order_update"} {
		if !strings.Contains(appErr.Error(), want) {
			t.Errorf("error %q does not name %s", appErr.Error(), want)
		}
	}
	if len(s.sends) != 0 {
		t.Errorf("sent %d messages", len(s.sends))
	}
}

// A journey that cannot start says why in its timeline without the value
// it was given; a missing variable or setting is named.
func TestStartFailureHasNoValues(t *testing.T) {
	j := journeys.Journey{Name: "signup", Params: []journeys.Param{{Name: "email", Type: "email"}}}
	bad := j.CheckVars(map[string]string{"email": "ana@example.com and more"})
	wrapped := temporal.NewNonRetryableApplicationError(bad.Error(), "InvalidInput", bad)
	if got := startFailure(wrapped); strings.Contains(got, "ana@example") || got == "" {
		t.Errorf("startFailure(bad email) = %q: want a reason without the value", got)
	}
	missing := j.CheckVars(nil)
	wrapped = temporal.NewNonRetryableApplicationError(missing.Error(), "InvalidInput", missing)
	if got := startFailure(wrapped); !strings.Contains(got, "email") {
		t.Errorf("startFailure(missing) = %q: want the variable named", got)
	}
}
