package journeys_test

import (
	"context"
	"errors"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/journeys"
)

// answers is a journeys.Querier that fails the first calls with the
// errors in fail, then answers with answer.
type answers struct {
	fail   []error
	answer journeys.Timeline
	calls  int
}

func (a *answers) QueryWorkflow(_ context.Context, _, _, _ string, _ ...any) (converter.EncodedValue, error) {
	a.calls++
	if a.calls <= len(a.fail) {
		return nil, a.fail[a.calls-1]
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(a.answer)
	if err != nil {
		return nil, err
	}
	return encoded{p}, nil
}

// encoded is an answer as the client returns it.
type encoded struct{ payloads *commonpb.Payloads }

func (e encoded) HasValue() bool { return e.payloads != nil }

func (e encoded) Get(ptr any) error {
	return converter.GetDefaultDataConverter().FromPayloads(e.payloads, ptr)
}

// A query a worker failed to answer while it rebuilt the journey's state
// (temporalio/sdk-go#755) is asked again; one that keeps failing, or any
// other error, is returned.
func TestQueryAsksAgainWhenAWorkerFailsIt(t *testing.T) {
	replay := serviceerror.NewQueryFailed("[TMPRL1100] invalid state transition: attempt to handleInitiatedEvent")
	missing := serviceerror.NewNotFound("workflow not found")
	want := journeys.Timeline{Journey: "otp", Outcome: journeys.OutcomeDelivered}
	tests := []struct {
		name      string
		fail      []error
		wantErr   error
		wantCalls int
	}{
		{"answered at once", nil, nil, 1},
		{"answered on the third try", []error{replay, replay}, nil, 3},
		{"failed four times", []error{replay, replay, replay, replay}, replay, 4},
		{"not found", []error{missing}, missing, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &answers{fail: tt.fail, answer: want}
			var got journeys.Timeline
			err := journeys.Query(context.Background(), q, "otp-1", journeys.QueryTimeline, &got)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if q.calls != tt.wantCalls {
				t.Errorf("asked %d times, want %d", q.calls, tt.wantCalls)
			}
			if tt.wantErr == nil && (got.Journey != want.Journey || got.Outcome != want.Outcome) {
				t.Errorf("timeline = %+v, want %+v", got, want)
			}
		})
	}
}

// A canceled context stops the asking.
func TestQueryStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := &answers{fail: []error{serviceerror.NewQueryFailed("replay failed")}}
	var got journeys.Timeline
	if err := journeys.Query(ctx, q, "otp-1", journeys.QueryTimeline, &got); err == nil || q.calls != 1 {
		t.Fatalf("err = %v after %d calls, want the query's failure after one", err, q.calls)
	}
}
