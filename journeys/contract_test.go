package journeys

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/store"
)

// "journey" in a start's JSON is a definition or a built-in journey's name.
func TestInputJSON(t *testing.T) {
	otp, err := Builtin("otp", testChannels())
	if err != nil {
		t.Fatal(err)
	}
	def, err := json.Marshal(otp)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		json string
		want Input
	}{
		{"by name", `{"journey": "otp", "to": "+15551234567", "vars": {"code": "493817"}}`,
			Input{JourneyName: "otp", To: "+15551234567", Vars: map[string]string{"code": "493817"}}},
		{"by definition", `{"journey": ` + string(def) + `, "to": "+15551234567", "email": "ana@example.com"}`,
			Input{Journey: otp, To: "+15551234567", Email: "ana@example.com"}},
		{"no journey", `{"to": "+15551234567"}`, Input{To: "+15551234567"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Input
			if err := json.Unmarshal([]byte(tt.json), &in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, tt.want) {
				t.Fatalf("decoded %+v, want %+v", in, tt.want)
			}
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var again Input
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, in) {
				t.Errorf("%s decoded again as %+v, want %+v", b, again, in)
			}
		})
	}
}

func TestInputJSONRefusesOtherJourneyForms(t *testing.T) {
	var in Input
	if err := json.Unmarshal([]byte(`{"journey": 7, "to": "+15551234567"}`), &in); err == nil {
		t.Errorf("a number as journey decoded as %+v", in)
	}
}

// A timeline event carries its reason's class as reason_class, and none
// when it has no class.
func TestEventReasonClassJSON(t *testing.T) {
	for _, tt := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: EventDeferred, Reason: "unreachable here last time", ReasonClass: store.ClassUnreachable}, `"reason_class":"unreachable_last_time"`},
		{Event{Kind: EventSent, Reason: "accepted by whatsapp"}, ""},
	} {
		b, err := json.Marshal(tt.ev)
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(string(b), `"reason_class"`)
		if tt.want == "" && has || tt.want != "" && !strings.Contains(string(b), tt.want) {
			t.Errorf("%s event = %s, want reason_class %q", tt.ev.Kind, b, tt.want)
		}
	}
}
