package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/workflows"
)

// TestEndToEndEncryptedHistory runs a journey with the payload codec: the
// journey completes, Temporal's history holds only ciphertext, and the
// codec endpoint (the Web UI's and the CLI's path) decrypts it.
func TestEndToEndEncryptedHistory(t *testing.T) {
	const phone = "+15551234567"
	cfg := config.Config{
		EncryptionKeys: []codec.Key{{ID: "test-1", Secret: bytes.Repeat([]byte{42}, codec.KeySize)}},
		CodecToken:     "support-token",
	}
	s := apptest.StartWith(t, apptest.Options{Configure: func(c *config.Config) { c.EncryptionKeys = cfg.EncryptionKeys }})
	run := s.RunOTP(t, phone)
	if run.Result.Outcome != workflows.OutcomeVerified {
		t.Fatalf("outcome %q, want verified", run.Result.Outcome)
	}

	var h historypb.History
	it := s.Client.GetWorkflowHistory(context.Background(), run.ID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	raw, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(strings.TrimPrefix(phone, "+"))) {
		t.Error("the phone number is in the history in clear")
	}
	input := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(input) == 0 {
		t.Fatal("no input in the started event")
	}
	md := input[0].GetMetadata()
	if string(md[converter.MetadataEncoding]) != codec.MetadataEncoding || string(md[codec.MetadataKeyID]) != "test-1" {
		t.Errorf("input metadata %q, want encrypted with test-1", md)
	}

	// Support decodes it through the codec endpoint with the token.
	srv := httptest.NewServer(app.HTTPHandler(app.HTTPOptions{Config: cfg}))
	defer srv.Close()
	rc := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + codec.Prefix,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+cfg.CodecToken)
			return nil
		},
	})
	dec, err := rc.Decode(input)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dec[0].GetData(), []byte(phone)) {
		t.Errorf("decoded input does not hold the phone number: %s", dec[0].GetData())
	}
}

// TestHistoryHoldsNoSecrets reads the raw history of an OTP journey that
// falls back twice (WhatsApp fails, SMS is refused as an invalid number,
// email delivers) and gets a wrong and a right code, as anyone with the
// Web UI or `temporal workflow show` and no key would: a plain SDK client
// without the codec. Neither the code, the number, the email, nor the
// providers' error texts are there.
func TestHistoryHoldsNoSecrets(t *testing.T) {
	const (
		number = sandbox.SMSInvalid
		email  = "ana.secret@example.com"
		code   = "493817"
		wrong  = "111111"
	)
	// The stack runs as production does: encrypted with its own key.
	s := apptest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := journeys.Builtin("otp", app.Channels())
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := journeys.Start(ctx, s.Client, journeys.StartOptions{Journey: j, To: number, Email: email,
		Vars: map[string]string{"code": code}, ContactKey: []byte(config.DevContactKey)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := journeys.WaitSettled(ctx, s.Client, run.GetID(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, try := range []struct {
		code string
		ok   bool
	}{{wrong, false}, {code, true}} {
		res, err := journeys.Verify(ctx, s.Client, run.GetID(), try.code)
		if err != nil || res.Verified != try.ok {
			t.Fatalf("verify %s = %+v, %v; want verified %v", try.code, res, err, try.ok)
		}
	}
	var res workflows.Result
	if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.OutcomeVerified {
		t.Fatalf("journey = %+v, %v", res, err)
	}

	plain, err := client.Dial(client.Options{HostPort: s.FrontendAddr, Namespace: s.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	var h historypb.History
	it := plain.GetWorkflowHistory(ctx, run.GetID(), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	failures := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetActivityTaskFailedEventAttributes() != nil {
			failures++
		}
		h.Events = append(h.Events, ev)
	}
	if failures == 0 {
		t.Fatal("no failed activity in the history: the SMS refusal did not happen, nothing to check")
	}
	raw, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	digits := strings.TrimPrefix(number, "+")
	for what, secret := range map[string]string{
		"code": code, "wrong code": wrong, "number": digits, "number's last digits": digits[len(digits)-7:],
		"email": email, "email's local part": "ana.secret",
		// Error texts of the providers, as the sandbox words them.
		"Twilio's error text": "phone number", "WhatsApp's error text": "undeliverable",
	} {
		if bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(secret))) {
			t.Errorf("the %s (%q) is readable in the raw history", what, secret)
		}
	}
	if !bytes.Contains(raw, []byte("Encoded failure")) {
		t.Error("no encoded failure in the history: failure messages travel in clear")
	}
}
