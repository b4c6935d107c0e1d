package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/apptest"
	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
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
	dc, err := app.DataConverter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := apptest.StartWith(t, apptest.Options{DataConverter: dc})
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
