package twilio

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzParseStatusCallback feeds arbitrary callback queries and forms to
// the parser: nothing panics, every error wraps ErrMalformedCallback, and
// what it accepts is a usable status update.
func FuzzParseStatusCallback(f *testing.F) {
	f.Add("sb_wf=otp-1&sb_attempt=2", "MessageSid=SM1&MessageStatus=delivered")
	f.Add("sb_wf=&sb_attempt=-1", "SmsSid=SM2&SmsStatus=undelivered&ErrorCode=30003")
	f.Add("sb_wf=%E2%80%AEotp&sb_attempt=99999999999999999999", "MessageSid=SM3&MessageStatus=canceled")
	f.Add("sb_attempt=1&sb_attempt=2", "MessageSid=&MessageStatus=sent")
	f.Add("%zz", "MessageSid=SM4&MessageStatus=%3Cscript%3E")
	f.Fuzz(func(t *testing.T, rawQuery, rawForm string) {
		query, _ := url.ParseQuery(rawQuery)
		form, _ := url.ParseQuery(rawForm)
		u, corr, hasCorr, err := ParseStatusCallback(query, form)
		if err != nil {
			if !errors.Is(err, ErrMalformedCallback) {
				t.Fatalf("error %v does not wrap ErrMalformedCallback", err)
			}
			return
		}
		if u.MessageID == "" || !u.Status.Valid() || u.Provider != Provider {
			t.Fatalf("unusable update %+v", u)
		}
		if hasCorr && (corr.WorkflowID == "" || corr.Attempt < 1 || u.Attempt != corr.Attempt) {
			t.Fatalf("bad correlation %+v in update %+v", corr, u)
		}
	})
}
