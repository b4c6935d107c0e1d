package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/internal/api"
)

// fakeClient answers the calls the tests make with err; any other call
// panics (the embedded interface is nil).
type fakeClient struct {
	client.Client
	// updateErr is what a verify update's outcome is; callErr what every
	// call returns.
	updateErr, callErr error
}

func (f fakeClient) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if f.callErr != nil {
		return nil, f.callErr
	}
	return updateHandle{f.updateErr}, nil
}

func (f fakeClient) SignalWorkflow(context.Context, string, string, string, any) error {
	return f.callErr
}

func (f fakeClient) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, f.callErr
}

type updateHandle struct{ err error }

func (updateHandle) WorkflowID() string               { return "j1" }
func (updateHandle) RunID() string                    { return "r1" }
func (updateHandle) UpdateID() string                 { return "u1" }
func (h updateHandle) Get(context.Context, any) error { return h.err }

// TestErrorMapping checks how the failures of Temporal calls become
// answers, including those a real stack shows only in a race.
func TestErrorMapping(t *testing.T) {
	verify := call{method: "POST", path: "/v1/journeys/j1/verify", body: `{"code":"493817"}`}
	tests := []struct {
		name   string
		client fakeClient
		c      call
		status int
		code   string
		leak   string
	}{
		{"code expired", fakeClient{updateErr: temporal.NewApplicationError("the code has expired", "")}, verify, 422, api.CodeVerifyRefused, ""},
		{"no update handler", fakeClient{updateErr: temporal.NewApplicationError("unknown update verify. KnownUpdates=[]", "")}, verify, 422, api.CodeNotVerifiable, ""},
		{"unexpected update failure", fakeClient{updateErr: errors.New("boom")}, verify, 500, api.CodeInternal, "boom"},
		{"resource exhausted", fakeClient{callErr: serviceerror.NewResourceExhausted(0, "slow down")}, verify, 503, api.CodeTemporalUnavailable, ""},
		{"deadline", fakeClient{callErr: serviceerror.NewDeadlineExceeded("late")}, call{method: "GET", path: "/v1/journeys/j1"}, 503, api.CodeTemporalUnavailable, ""},
		{"permission denied", fakeClient{callErr: serviceerror.NewPermissionDenied("PermissionDenied: no access", "")}, call{method: "POST", path: "/v1/journeys/j1/events", body: `{"name":"x"}`}, 500, api.CodeInternal, "PermissionDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, api.New(api.Options{Client: tc.client, Token: "secret"}))
			a := do(t, srv, tc.c)
			if a.status != tc.status || a.code(t) != tc.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			// The cause of a 500 goes to the log, not to the caller.
			if tc.leak != "" && strings.Contains(string(a.body), tc.leak) {
				t.Errorf("the answer leaks %q: %s", tc.leak, a.body)
			}
		})
	}
}
