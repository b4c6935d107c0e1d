package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"testing"
)

// FuzzParseNotification feeds arbitrary bodies to the webhook parser:
// nothing panics, every error wraps ErrMalformedNotification, and every
// status event it yields is one Switchback can act on.
func FuzzParseNotification(f *testing.F) {
	for _, name := range []string{"status_sent.json", "status_failed.json", "errors.json"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.x","status":"delivered","biz_opaque_callback_data":"sb1:2:otp-\u202e\u0000x"}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":[]}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":null}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte{0xff, 0xfe, '{'})
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseNotification(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedNotification) {
				t.Fatalf("error %v does not wrap ErrMalformedNotification", err)
			}
			if n != nil {
				t.Fatal("a notification returned with an error")
			}
			return
		}
		for _, ev := range n.StatusEvents() {
			u := ev.Update
			if u.MessageID == "" || !u.Status.Valid() || u.Provider != Provider {
				t.Fatalf("unusable status event %+v", u)
			}
			if ev.HasCorrelation && (ev.Correlation.WorkflowID == "" || ev.Correlation.Attempt < 1) {
				t.Fatalf("bad correlation %+v", ev.Correlation)
			}
		}
	})
}

// FuzzVerifySignature checks that arbitrary headers never verify a body,
// and that the true signature always does.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), "sha256=00", "secret")
	f.Add([]byte{}, "", "s")
	f.Add([]byte("x"), "sha256=zz", "")
	f.Add([]byte("x"), "SHA256=ABCDEF", "k")
	f.Fuzz(func(t *testing.T, body []byte, header, secret string) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		err := VerifySignature(body, header, secret)
		if secret == "" {
			if !errors.Is(err, ErrNoAppSecret) {
				t.Fatalf("no secret: got %v", err)
			}
			return
		}
		if err == nil && header != good {
			t.Fatalf("header %q verified, want only %q", header, good)
		}
		if err := VerifySignature(body, good, secret); err != nil {
			t.Fatalf("true signature rejected: %v", err)
		}
	})
}
