package email

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// SendGrid's published test vector (sendgrid-go helpers/eventwebhook).
const (
	vectorKey       = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
	vectorSignature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	vectorTimestamp = "1600112502"
)

func TestVerifySendGridVector(t *testing.T) {
	body, err := os.ReadFile("testdata/signed_dropped.json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePublicKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1600112502, 0)
	v := Verifier{Key: key, Now: func() time.Time { return at.Add(time.Minute) }}
	if err := v.Verify(body, vectorSignature, vectorTimestamp); err != nil {
		t.Fatalf("published vector: %v", err)
	}
	trimmed := body[:len(body)-2] // without its CR LF: no longer the signed bytes
	if err := v.Verify(trimmed, vectorSignature, vectorTimestamp); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("trimmed body: %v, want ErrSignatureMismatch", err)
	}
}

func sign(t *testing.T, key *ecdsa.PrivateKey, ts string, body []byte) string {
	t.Helper()
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestVerify(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1777636800, 0)
	body := []byte(`[{"event":"delivered"}]`)
	fresh := strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	tests := []struct {
		name      string
		body      []byte
		signature string
		timestamp string
		want      error
	}{
		{"good", body, sign(t, key, fresh, body), fresh, nil},
		{"other body", []byte(`[{"event":"bounce"}]`), sign(t, key, fresh, body), fresh, ErrSignatureMismatch},
		{"other timestamp", body, sign(t, key, fresh, body), strconv.FormatInt(now.Unix(), 10), ErrSignatureMismatch},
		{"other key", body, sign(t, other, fresh, body), fresh, ErrSignatureMismatch},
		{"stale", body, sign(t, key, stale, body), stale, ErrTimestampStale},
		{"from the future", body, sign(t, key, future, body), future, ErrTimestampStale},
		{"timestamp not a number", body, sign(t, key, "soon", body), "soon", ErrTimestampStale},
		{"missing signature", body, "", fresh, ErrSignatureMissing},
		{"missing timestamp", body, sign(t, key, fresh, body), "", ErrSignatureMissing},
		{"not base64", body, "%%%", fresh, ErrSignatureMalformed},
		{"not ASN.1", body, base64.StdEncoding.EncodeToString([]byte("nope")), fresh, ErrSignatureMalformed},
	}
	v := Verifier{Key: &key.PublicKey, Now: func() time.Time { return now }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(tt.body, tt.signature, tt.timestamp)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	for name, in := range map[string]string{
		"not base64":  "%%%",
		"not DER":     base64.StdEncoding.EncodeToString([]byte("key")),
		"not ECDSA":   base64.StdEncoding.EncodeToString(rsaDER),
		"empty input": "",
	} {
		if _, err := ParsePublicKey(in); err == nil {
			t.Errorf("%s: ParsePublicKey succeeded", name)
		}
	}
	if _, err := ParsePublicKey(" " + vectorKey + "\n"); err != nil {
		t.Errorf("vector key with spaces: %v", err)
	}
}

func TestParseEvents(t *testing.T) {
	body, err := os.ReadFile("testdata/events.json")
	if err != nil {
		t.Fatal(err)
	}
	events, err := ParseEvents(body)
	if err != nil {
		t.Fatal(err)
	}
	corr := channels.Correlation{WorkflowID: "otp-42", Attempt: 3}
	const id = "14c5d75ce93"
	tests := []struct {
		kind        EventKind
		status      channels.Status // "" when the event reports none
		code        string
		reason      string
		suppression bool
		hasCorr     bool
		messageID   string
	}{
		{EventProcessed, channels.StatusAccepted, "", "", false, true, id},
		{EventDeferred, "", "", "", false, true, id},
		{EventDelivered, channels.StatusDelivered, "", "", false, true, id},
		{EventOpen, channels.StatusRead, "", "", false, true, id},
		{EventClick, channels.StatusRead, "", "", false, true, id},
		{EventBounce, channels.StatusFailed, "bounce_blocked", "5.0.0 500 unknown recipient", false, true, ""},
		{EventDropped, channels.StatusFailed, "dropped", "5.0.0 Bounced Address", false, false, id},
		{EventSpamReport, "", "", "", true, false, id},
		{EventUnsubscribe, "", "", "", true, false, id},
		{EventGroupUnsubscribe, "", "", "", true, false, id},
	}
	if len(events) != len(tests) {
		t.Fatalf("got %d events, want %d", len(events), len(tests))
	}
	for i, tt := range tests {
		ev := events[i]
		t.Run(string(tt.kind), func(t *testing.T) {
			if ev.Kind != tt.kind || ev.MessageID != tt.messageID || ev.HasCorrelation != tt.hasCorr || ev.Email != "ana@example.com" {
				t.Errorf("event = %+v", ev)
			}
			if tt.hasCorr && ev.Correlation != corr {
				t.Errorf("correlation = %+v, want %+v", ev.Correlation, corr)
			}
			if ev.Kind.Suppression() != tt.suppression {
				t.Errorf("Suppression() = %v", !tt.suppression)
			}
			u, ok := ev.StatusUpdate()
			if ok != (tt.status != "") {
				t.Fatalf("StatusUpdate reports %v", ok)
			}
			if !ok {
				return
			}
			want := channels.StatusUpdate{Provider: Provider, MessageID: tt.messageID, Status: tt.status,
				ErrorCode: tt.code, ErrorReason: tt.reason, Timestamp: ev.Timestamp}
			if tt.hasCorr {
				want.Attempt = 3
			}
			if u != want {
				t.Errorf("StatusUpdate = %+v, want %+v", u, want)
			}
		})
	}
	if got := events[0].Categories; len(got) != 2 || got[1] != "otp/code" {
		t.Errorf("array category = %v", got)
	}
	if got := events[1]; len(got.Categories) != 1 || got.Categories[0] != "otp" || got.Attempt != "5" || got.Response != "400 try again later" {
		t.Errorf("deferred = %+v", got)
	}
	if events[9].ASMGroupID != 10 || events[4].URL != "http://www.sendgrid.com/" || events[0].Timestamp != 1513299569 {
		t.Errorf("fields lost: %+v %+v", events[9], events[4])
	}
}

func TestParseEventsMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"empty":             "",
		"not JSON":          "event=delivered",
		"an object":         `{"event":"delivered"}`,
		"no kind":           `[{"email":"a@b.test"}]`,
		"bad timestamp":     `[{"event":"open","timestamp":"yesterday"}]`,
		"bad category type": `[{"event":"open","category":{"a":1}}]`,
	} {
		if _, err := ParseEvents([]byte(body)); !errors.Is(err, ErrMalformedEvents) {
			t.Errorf("%s: error = %v, want ErrMalformedEvents", name, err)
		}
	}
}
