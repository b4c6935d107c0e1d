package api_test

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/journeys"
)

// fakeClient answers the calls the tests make with err; any other call
// panics (the embedded interface is nil).
type fakeClient struct {
	client.Client
	// updateErr is what a verify update's outcome is; callErr what every
	// call returns.
	updateErr, callErr error
	// workflowType is the type of every workflow; "": Journey.
	workflowType string
}

func (f fakeClient) typeName() string { return cmp.Or(f.workflowType, journeys.WorkflowType) }

func (f fakeClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.callErr != nil {
		return nil, f.callErr
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Type: &commonpb.WorkflowType{Name: f.typeName()}, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}}, nil
}

func (f fakeClient) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return &historyIterator{f: f}
}

// historyIterator yields the start of an order_update journey, or the
// fake's callErr.
type historyIterator struct {
	f    fakeClient
	done bool
}

func (it *historyIterator) HasNext() bool { return !it.done }

func (it *historyIterator) Next() (*historypb.HistoryEvent, error) {
	it.done = true
	if it.f.callErr != nil {
		return nil, it.f.callErr
	}
	j, err := journeys.Builtin("order_update", nil)
	if err != nil {
		return nil, err
	}
	in, err := converter.GetDefaultDataConverter().ToPayloads(journeys.Input{Journey: j, To: "+15551234567", Vars: map[string]string{"order_id": "1"}})
	if err != nil {
		return nil, err
	}
	return &historypb.HistoryEvent{Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
		WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: it.f.typeName()}, Input: in}}}, nil
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
		{"event without a param its handler needs", fakeClient{}, call{method: "POST", path: "/v1/journeys/j1/events", body: `{"name":"shipped"}`}, 422, api.CodeEventIgnored, ""},
		{"event with an invalid param", fakeClient{}, call{method: "POST", path: "/v1/journeys/j1/events", body: `{"name":"shipped","vars":{"tracking_url":"https://x/\" onmouseover=\"a()"}}`}, 422, api.CodeEventIgnored, ""},
		{"event to another workflow type", fakeClient{workflowType: "Billing"}, call{method: "POST", path: "/v1/journeys/j1/events", body: `{"name":"x"}`}, 404, api.CodeJourneyNotFound, "Billing"},
		{"verify on another workflow type", fakeClient{workflowType: "Billing"}, verify, 404, api.CodeJourneyNotFound, "Billing"},
		{"cancel of another workflow type", fakeClient{workflowType: "Billing"}, call{method: "DELETE", path: "/v1/journeys/j1"}, 404, api.CodeJourneyNotFound, "Billing"},
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
