package journeys

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

func TestJourneyTemplates(t *testing.T) {
	reg := testChannels()
	for _, c := range []struct {
		journey string
		want    []channels.Template
	}{
		{"abandoned_cart", []channels.Template{{Name: "cart_reminder", Language: "en_US"}, {Name: "cart_last_call", Language: "en_US"}}},
		{"order_update", []channels.Template{{Name: "order_confirmed", Language: "en_US"}, {Name: "order_shipped", Language: "en_US"},
			{Name: "order_out_for_delivery", Language: "en_US"}, {Name: "order_delivered", Language: "en_US"}, {Name: "order_cancelled", Language: "en_US"}}},
	} {
		j, err := Builtin(c.journey, reg)
		if err != nil {
			t.Fatal(err)
		}
		if got := j.Templates(reg); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Templates = %+v, want %+v", c.journey, got, c.want)
		}
	}
}

func TestValidateTierLimit(t *testing.T) {
	reg := testChannels()
	j, err := Builtin("abandoned_cart", reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"", TierLimitWait, TierLimitNextChannel} {
		j.TierLimit = v
		if err := j.Validate(reg); err != nil {
			t.Errorf("tier_limit %q: %v", v, err)
		}
	}
	j.TierLimit = "skip"
	if err := j.Validate(reg); err == nil || !strings.Contains(err.Error(), "tier_limit") {
		t.Errorf("tier_limit skip: %v, want an error naming tier_limit", err)
	}
}
