package journeys

import (
	"errors"
	"fmt"
	"testing"
)

func TestCheckEvent(t *testing.T) {
	order, err := Builtin("order_update", testChannels())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ev      EventInput
		missing []string // nil: no *EventVarsError with missing params
		invalid bool
	}{
		{"handler's params given", EventInput{Name: "shipped", Vars: map[string]string{"tracking_url": "https://track.example/1"}}, nil, false},
		{"param missing", EventInput{Name: "shipped"}, []string{"tracking_url"}, false},
		{"param empty", EventInput{Name: "shipped", Vars: map[string]string{"tracking_url": ""}}, []string{"tracking_url"}, false},
		{"param of the wrong form", EventInput{Name: "shipped", Vars: map[string]string{"tracking_url": "not a url"}}, nil, true},
		{"handler without params", EventInput{Name: "delivered"}, nil, false},
		{"no handler", EventInput{Name: "refunded"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := order.CheckEvent(tt.ev)
			var ev *EventVarsError
			if !errors.As(err, &ev) {
				if tt.missing != nil || tt.invalid {
					t.Fatalf("CheckEvent = %v, want an *EventVarsError", err)
				}
				return
			}
			if tt.missing == nil && !tt.invalid {
				t.Fatalf("CheckEvent = %v, want nil", err)
			}
			if ev.Journey != "order_update" || ev.Event != tt.ev.Name || fmt.Sprint(ev.Missing) != fmt.Sprint(tt.missing) || (ev.Invalid != nil) != tt.invalid {
				t.Errorf("CheckEvent = %+v, want event %s missing %v invalid %v", ev, tt.ev.Name, tt.missing, tt.invalid)
			}
		})
	}
}

func TestEventVarsErrorNamesEventAndParams(t *testing.T) {
	err := &EventVarsError{Journey: "order_update", Event: "shipped", Missing: []string{"tracking_url", "carrier"}}
	if got, want := err.Error(), `journey "order_update": event "shipped" needs tracking_url, carrier`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
