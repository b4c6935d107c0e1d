package stdwebhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func secret(n int) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
}

func TestSignVerifies(t *testing.T) {
	s, err := NewSigner(secret(32))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_1"}`)
	h := http.Header{}
	if err := s.Sign(h, "evt_1", time.Now(), body); err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret(32))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, h); err != nil {
		t.Errorf("the library rejects the signature: %v (headers %v)", err, h)
	}
	if err := wh.Verify([]byte(`{"id":"evt_2"}`), h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("Verify of another body = %v, want ErrNoMatchingSignature", err)
	}
	other, err := standardwebhooks.NewWebhook(secret(33))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Verify(body, h); err == nil {
		t.Error("a signature verified with another key")
	}
}

func TestNewSignerRefuses(t *testing.T) {
	for _, s := range []string{
		"",
		base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))), // no prefix
		SecretPrefix + "not base64!",
		secret(MinKeyLen - 1),
		SecretPrefix,
	} {
		_, err := NewSigner(s)
		if !errors.Is(err, ErrBadSecret) {
			t.Errorf("NewSigner(%q) = %v, want ErrBadSecret", s, err)
			continue
		}
		if enc := strings.TrimPrefix(s, SecretPrefix); enc != "" && strings.Contains(err.Error(), enc) {
			t.Errorf("NewSigner's error quotes the secret: %v", err)
		}
	}
	if _, err := NewSigner(secret(MinKeyLen)); err != nil {
		t.Errorf("NewSigner of a %d-byte key: %v", MinKeyLen, err)
	}
}
