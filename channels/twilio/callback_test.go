package twilio

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

func TestVerifySignature(t *testing.T) {
	// Vectors T1, T4 and T9 of providers.md §4.3.
	t1Body := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}.Encode()
	const t9Body = "AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&ApiVersion=2010-04-01&From=%2B15017122661&MessageSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&MessageStatus=undelivered&ErrorCode=30003&SmsSid=SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&SmsStatus=undelivered&To=%2B15558675310"
	tests := []struct {
		name  string
		token string
		url   string
		body  string
		sig   string
		want  bool
	}{
		{"T1", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", t1Body, "vOEb5UThFn24KEfnOFLQY2AE5FY=", true},
		{"T1 wrong token", "54321", "https://mycompany.com/myapp.php?foo=1&bar=2", t1Body, "vOEb5UThFn24KEfnOFLQY2AE5FY=", false},
		{"T1 wrong url", "12345", "https://mycompany.com/myapp.php?foo=1&bar=3", t1Body, "vOEb5UThFn24KEfnOFLQY2AE5FY=", false},
		{"T3 mis-sorted", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", t1Body, "95+Bu0JVPi0r/SsESZCVf0dWAjw=", false},
		{"T4", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "property=value&boolean=true", "NBdBDr/T/lgjI+tlgpXjKZQZs/k=", true},
		{"T4 tampered", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "property=value&boolean=false", "NBdBDr/T/lgjI+tlgpXjKZQZs/k=", false},
		{"T9", "12345", "https://example.com/twilio/status", t9Body, "l1wvcDi4EjXdXpnaIKNVD5+hoC0=", true},
		{"T9 with port", "12345", "https://example.com:443/twilio/status", t9Body, "l1wvcDi4EjXdXpnaIKNVD5+hoC0=", true},
		{"T9 status changed", "12345", "https://example.com/twilio/status", strings.Replace(t9Body, "=undelivered", "=delivered", 1), "l1wvcDi4EjXdXpnaIKNVD5+hoC0=", false},
		{"no signature", "12345", "https://example.com/twilio/status", t9Body, "", false},
		{"no token", "", "https://example.com/twilio/status", t9Body, "l1wvcDi4EjXdXpnaIKNVD5+hoC0=", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.token, tt.url, []byte(tt.body), tt.sig); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatusCallback(t *testing.T) {
	corrQuery := url.Values{"sb_wf": {"otp-42"}, "sb_attempt": {"2"}}
	corr := channels.Correlation{WorkflowID: "otp-42", Attempt: 2}
	form := func(kv ...string) url.Values {
		v := url.Values{"AccountSid": {"ACf39b56dca717cf6383248139123328cd"}, "ApiVersion": {"2010-04-01"}, "To": {"+18777804236"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	const sid = "MM6e5383d5703e0780347e3f4ffc33cae7"
	tests := []struct {
		name     string
		query    url.Values
		form     url.Values
		want     channels.StatusUpdate
		wantCorr bool
	}{
		{
			name:  "delivered capture",
			query: corrQuery,
			form:  form("MessageStatus", "delivered", "RawDlrDoneDate", "2511160837", "SmsSid", sid, "SmsStatus", "delivered", "MessageSid", sid, "From", "+14752601888"),
			want:  channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: channels.StatusDelivered, Attempt: 2}, wantCorr: true,
		},
		{
			name:  "undelivered 30003",
			query: corrQuery,
			form:  form("MessageSid", sid, "MessageStatus", "undelivered", "ErrorCode", "30003"),
			want: channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: channels.StatusFailed, Attempt: 2,
				ErrorCode: "30003", ErrorReason: "Unreachable destination handset"},
			wantCorr: true,
		},
		{
			name:  "failed with an unlisted code",
			query: corrQuery,
			form:  form("MessageSid", sid, "MessageStatus", "failed", "ErrorCode", "30034"),
			want: channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: channels.StatusFailed, Attempt: 2,
				ErrorCode: "30034", ErrorReason: "Twilio error 30034"},
			wantCorr: true,
		},
		{
			name: "legacy keys only, no correlation",
			form: form("SmsSid", sid, "SmsStatus", "sent"),
			want: channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: channels.StatusSent},
		},
		{
			name:  "bad attempt is no correlation",
			query: url.Values{"sb_wf": {"otp-42"}, "sb_attempt": {"x"}},
			form:  form("MessageSid", sid, "MessageStatus", "read"),
			want:  channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: channels.StatusRead},
		},
	}
	statuses := map[string]channels.Status{
		"queued": channels.StatusAccepted, "accepted": channels.StatusAccepted, "scheduled": channels.StatusAccepted,
		"sending": channels.StatusSent, "sent": channels.StatusSent, "delivered": channels.StatusDelivered,
		"read": channels.StatusRead, "failed": channels.StatusFailed, "undelivered": channels.StatusFailed,
		"canceled": channels.StatusFailed,
	}
	for raw, st := range statuses {
		tests = append(tests, struct {
			name     string
			query    url.Values
			form     url.Values
			want     channels.StatusUpdate
			wantCorr bool
		}{
			name: "status " + raw, query: corrQuery, form: form("MessageSid", sid, "MessageStatus", raw),
			want: channels.StatusUpdate{Provider: "twilio", MessageID: sid, Status: st, Attempt: 2}, wantCorr: true,
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gotCorr, has, err := ParseStatusCallback(tt.query, tt.form)
			if err != nil {
				t.Fatalf("ParseStatusCallback: %v", err)
			}
			if got != tt.want {
				t.Errorf("update = %+v, want %+v", got, tt.want)
			}
			if has != tt.wantCorr || (has && gotCorr != corr) {
				t.Errorf("correlation = %+v, %v; want %+v, %v", gotCorr, has, corr, tt.wantCorr)
			}
		})
	}
}

func TestParseStatusCallbackErrors(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no sid", url.Values{"MessageStatus": {"sent"}}, "MessageSid"},
		{"no status", url.Values{"MessageSid": {"SM1"}}, "MessageStatus"},
		{"unknown status", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"received"}}, `"received"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := ParseStatusCallback(nil, tt.form)
			if !errors.Is(err, ErrMalformedCallback) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseStatusCallback = %v, want ErrMalformedCallback naming %s", err, tt.want)
			}
		})
	}
}
