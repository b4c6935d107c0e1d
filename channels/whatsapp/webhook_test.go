package whatsapp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

func TestVerifySignature(t *testing.T) {
	// The self-constructed vector of providers.md §2.2.
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	const good = "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   error
	}{
		{"valid", body, good, "test_app_secret", nil},
		{"wrong secret", body, good, "other_secret", ErrSignatureMismatch},
		{"body changed", append([]byte(" "), body...), good, "test_app_secret", ErrSignatureMismatch},
		{"missing", body, "", "test_app_secret", ErrSignatureMissing},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), "test_app_secret", ErrSignatureMalformed},
		{"sha1 prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256="), "test_app_secret", ErrSignatureMalformed},
		{"not hex", body, "sha256=zz", "test_app_secret", ErrSignatureMalformed},
		{"short", body, good[:len(good)-2], "test_app_secret", ErrSignatureMalformed},
		{"no secret", body, good, "", ErrNoAppSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifySignature(tt.body, tt.header, tt.secret); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStatusEventsFromMetaExamples(t *testing.T) {
	tests := []struct {
		file string
		want []StatusEvent
	}{
		{
			file: "status_sent.json",
			want: []StatusEvent{{
				Update: channels.StatusUpdate{
					Provider:  "whatsapp",
					MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
					Status:    channels.StatusSent,
					Timestamp: 1750030073,
					// Meta's pricing category, for the event log.
					PricingCategory: "marketing",
				},
				RecipientID: "16505551234",
			}},
		},
		{
			file: "status_failed.json",
			want: []StatusEvent{{
				Update: channels.StatusUpdate{
					Provider:    "whatsapp",
					MessageID:   "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA",
					Status:      channels.StatusFailed,
					ErrorCode:   "131049",
					ErrorReason: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
					Timestamp:   1751142888,
				},
				RecipientID: "16505551234",
			}},
		},
		{
			file: "errors.json", // errors not tied to a message: no status events
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n, err := ParseNotification(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("ParseNotification: %v", err)
			}
			if got := n.StatusEvents(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StatusEvents =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseNotificationFields(t *testing.T) {
	n, err := ParseNotification(readTestdata(t, "status_failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Object != "whatsapp_business_account" || len(n.Entry) != 1 || n.Entry[0].ID != "102290129340398" {
		t.Fatalf("envelope = %+v", n)
	}
	c := n.Entry[0].Changes[0]
	if c.Field != "messages" || c.Value.Metadata.PhoneNumberID != "106540352242922" || c.Value.Metadata.DisplayPhoneNumber != "15550783881" {
		t.Errorf("change = %+v", c)
	}
	e := c.Value.Statuses[0].Errors[0]
	if e.Code != 131049 || e.Title == "" || e.Href != "/documentation/business-messaging/whatsapp/support/error-codes" {
		t.Errorf("status error = %+v", e)
	}

	n, err = ParseNotification(readTestdata(t, "errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	errs := n.Entry[0].Changes[0].Value.Errors
	if len(errs) != 1 || errs[0].Code != 130429 || errs[0].Reason() != "Message failed to send because there were too many messages sent from this phone number in a short period of time" {
		t.Errorf("value errors = %+v", errs)
	}
}

func TestStatusEventsMapping(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
	  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[
	    {"id":"wamid.A","status":"delivered","timestamp":"1709295133","recipient_id":"16505551234","biz_opaque_callback_data":"sb1:2:otp-42"},
	    {"id":"wamid.B","status":"read","timestamp":"1709295134","recipient_id":"16505551234","biz_opaque_callback_data":"{\"source\":\"api\"}"},
	    {"id":"wamid.C","status":"played","timestamp":"not-a-number","recipient_id":"16505551234"},
	    {"id":"wamid.D","status":"deleted","timestamp":"1709295136","recipient_id":"16505551234"},
	    {"id":"","status":"sent","timestamp":"1709295137","recipient_id":"16505551234"},
	    {"id":"wamid.E","status":"failed","timestamp":"1709295138","recipient_id":"16505551234","biz_opaque_callback_data":"sb1:1:otp-42",
	     "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message"}]}
	  ]}},
	  {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12345,"message_template_name":"otp_code","message_template_language":"en_US","reason":"NONE"}}
	]}]}`
	n, err := ParseNotification([]byte(body))
	if err != nil {
		t.Fatalf("ParseNotification: %v", err)
	}
	want := []StatusEvent{
		{
			Update:         channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.A", Status: channels.StatusDelivered, Attempt: 2, Timestamp: 1709295133},
			Correlation:    channels.Correlation{WorkflowID: "otp-42", Attempt: 2},
			HasCorrelation: true,
			RecipientID:    "16505551234",
		},
		{
			Update:      channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.B", Status: channels.StatusRead, Timestamp: 1709295134},
			RecipientID: "16505551234",
		},
		{
			Update:      channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.C", Status: channels.StatusRead},
			RecipientID: "16505551234",
		},
		{
			Update: channels.StatusUpdate{Provider: "whatsapp", MessageID: "wamid.E", Status: channels.StatusFailed, Attempt: 1,
				ErrorCode: "131047", ErrorReason: "Re-engagement message", Timestamp: 1709295138},
			Correlation:    channels.Correlation{WorkflowID: "otp-42", Attempt: 1},
			HasCorrelation: true,
			RecipientID:    "16505551234",
		},
	}
	if got := n.StatusEvents(); !reflect.DeepEqual(got, want) {
		t.Errorf("StatusEvents =\n%+v\nwant\n%+v", got, want)
	}
	if c := n.Entry[0].Changes[1]; c.Field != "message_template_status_update" || !strings.Contains(string(c.RawValue), "APPROVED") {
		t.Errorf("other field change = %+v", c)
	}
}

func TestParseNotificationErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", "", "empty body"},
		{"not JSON", "hub.mode=subscribe", "not JSON"},
		{"truncated", `{"object":"whatsapp_business_account"`, "not JSON"},
		{"array", `[]`, "unexpected shape"},
		{"wrong object", `{"object":"page","entry":[]}`, `object is "page"`},
		{"no object", `{"entry":[]}`, `object is ""`},
		{"statuses not a list", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":{}}}]}]}`, "unexpected shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNotification([]byte(tt.body))
			if !errors.Is(err, ErrMalformedNotification) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseNotification = %v, want ErrMalformedNotification mentioning %q", err, tt.want)
			}
		})
	}
}

func TestTemplateStatusUpdates(t *testing.T) {
	body := `{"entry":[{"id":"102290129340398","time":1751247548,"changes":[
		{"value":{"event":"APPROVED","message_template_id":1689556908129832,"message_template_name":"order_confirmation","message_template_language":"en-US","reason":"NONE","message_template_category":"UTILITY"},"field":"message_template_status_update"},
		{"value":{"event":"REJECTED","message_template_id":1689556908129835,"message_template_name":"abandoned_cart","message_template_language":"en","reason":"INVALID_FORMAT","message_template_category":"MARKETING","rejection_info":{"reason":"Parameters are next to each other.","recommendation":"Separate them."}},"field":"message_template_status_update"},
		{"value":{"event":"PENDING_DELETION","message_template_id":7,"message_template_name":"old","message_template_language":"en","reason":null},"field":"message_template_status_update"},
		{"value":{"previous_quality_score":"GREEN","new_quality_score":"YELLOW"},"field":"message_template_quality_update"}
	]}],"object":"whatsapp_business_account"}`
	n, err := ParseNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.TemplateStatusUpdates()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d updates: %+v", len(got), got)
	}
	a, r, d := got[0], got[1], got[2]
	if a.WABAID != "102290129340398" || a.Event != "APPROVED" || a.TemplateID != 1689556908129832 || a.Name != "order_confirmation" ||
		a.Language != "en-US" || a.Category != "UTILITY" || a.Reason != "NONE" {
		t.Errorf("approved = %+v", a)
	}
	if r.Event != "REJECTED" || r.RejectionInfo == nil || r.RejectionInfo.Recommendation != "Separate them." {
		t.Errorf("rejected = %+v", r)
	}
	if d.Reason != "" || d.Event != "PENDING_DELETION" {
		t.Errorf("pending deletion = %+v", d)
	}
	if len(n.StatusEvents()) != 0 {
		t.Error("template updates reported as message statuses")
	}

	bad, err := ParseNotification([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.TemplateStatusUpdates(); !errors.Is(err, ErrMalformedNotification) {
		t.Errorf("update without a name: %v", err)
	}
}

// phone_number_quality_update in the shape of Meta's reference: a FLAGGED
// event, a DOWNGRADE with old and current limits, and a newer payload that
// gives only max_daily_conversations_per_business.
func TestNumberQualityUpdates(t *testing.T) {
	body := `{"entry":[{"id":"102290129340398","time":1751247548,"changes":[
		{"value":{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_10K"},"field":"phone_number_quality_update"},
		{"value":{"display_phone_number":"15550783881","event":"DOWNGRADE","old_limit":"TIER_10K","current_limit":"TIER_2K"},"field":"phone_number_quality_update"},
		{"value":{"display_phone_number":"15550783881","event":"UPGRADE","max_daily_conversations_per_business":"TIER_100K"},"field":"phone_number_quality_update"},
		{"value":{"display_phone_number":"15550783881","event":"UPGRADE","max_daily_conversations_per_business":1000},"field":"phone_number_quality_update"},
		{"value":{"event":"APPROVED","message_template_id":1,"message_template_name":"promo","message_template_language":"en_US","reason":"NONE"},"field":"message_template_status_update"}
	]}],"object":"whatsapp_business_account"}`
	n, err := ParseNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.NumberQualityUpdates()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d updates: %+v", len(got), got)
	}
	for i, want := range []struct{ event, tier string }{
		{NumberFlagged, "TIER_10K"}, {NumberDowngrade, "TIER_2K"}, {NumberUpgrade, "TIER_100K"}, {NumberUpgrade, "1000"},
	} {
		if u := got[i]; u.WABAID != "102290129340398" || u.Event != want.event || u.Tier() != want.tier || u.DisplayPhoneNumber != "15550783881" {
			t.Errorf("update %d = %+v (tier %q), want %s with tier %s", i, u, u.Tier(), want.event, want.tier)
		}
	}
	if got[1].OldLimit != "TIER_10K" {
		t.Errorf("downgrade's old limit = %q", got[1].OldLimit)
	}
	if ts, err := n.TemplateStatusUpdates(); err != nil || len(ts) != 1 {
		t.Errorf("template updates beside them: %v, %v", ts, err)
	}
	bad, err := ParseNotification([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"phone_number_quality_update","value":{"current_limit":"TIER_250"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.NumberQualityUpdates(); !errors.Is(err, ErrMalformedNotification) {
		t.Errorf("update without an event: %v", err)
	}
	bad, err = ParseNotification([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"phone_number_quality_update","value":{"event":7}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.NumberQualityUpdates(); !errors.Is(err, ErrMalformedNotification) {
		t.Errorf("an event that is a number: %v", err)
	}
}
