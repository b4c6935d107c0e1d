package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

func TestParseFrequencyCaps(t *testing.T) {
	got, err := ParseFrequencyCaps(" marketing:whatsapp=2/7d, marketing:*=3/14d,utility:sms=5/12h")
	if err != nil {
		t.Fatal(err)
	}
	want := activities.FrequencyCaps{
		{Purpose: journeys.Marketing, Channel: channels.WhatsApp, Limit: store.CapLimit{Sends: 2, Window: 7 * 24 * time.Hour}},
		{Purpose: journeys.Marketing, Limit: store.CapLimit{Sends: 3, Window: 14 * 24 * time.Hour}},
		{Purpose: journeys.Utility, Channel: channels.SMS, Limit: store.CapLimit{Sends: 5, Window: 12 * time.Hour}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseFrequencyCaps = %+v, want %+v", got, want)
	}
}

func TestParseFrequencyCapsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"marketing=2/7d", "want purpose:channel=sends/window"},
		{"promo:whatsapp=2/7d", `purpose "promo"`},
		{"marketing:Fax!=2/7d", `channel "Fax!"`},
		{"marketing:sms=two/7d", `sends "two"`},
		{"marketing:sms=-1/7d", `sends "-1"`},
		{"marketing:sms=2/0d", `window "0d"`},
		{"marketing:sms=2/week", `window "week"`},
		{"marketing:sms=2/7d,marketing:sms=3/7d", "a second cap"},
	} {
		_, err := ParseFrequencyCaps(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFrequencyCaps(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

func TestFromEnvFrequencyCaps(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"SWITCHBACK_FREQUENCY_CAPS": "marketing:*=2/7d"}))
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := c.FrequencyCaps.For(journeys.Marketing, channels.Email); !ok || l.Sends != 2 {
		t.Errorf("FrequencyCaps.For(marketing, email) = %v, %v; want 2 sends", l, ok)
	}
	if _, ok := c.FrequencyCaps.For(journeys.Authentication, channels.SMS); ok {
		t.Error("authentication capped without a cap of its own")
	}
	_, err = FromEnv(env(map[string]string{"SWITCHBACK_FREQUENCY_CAPS": "marketing:*=2"}))
	if err == nil || !strings.Contains(err.Error(), "SWITCHBACK_FREQUENCY_CAPS") {
		t.Errorf("bad caps: error %v, want one naming SWITCHBACK_FREQUENCY_CAPS", err)
	}
}
