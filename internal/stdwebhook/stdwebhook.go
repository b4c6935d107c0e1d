// Package stdwebhook signs Switchback's outbound webhooks as the Standard
// Webhooks specification says, so that a receiver can check them with any
// of its libraries: the headers webhook-id (the same on every retry, the
// receiver's de-duplication key), webhook-timestamp (Unix seconds) and
// webhook-signature ("v1," and the base64 HMAC-SHA256 of
// "id.timestamp.body"), keyed with a secret written whsec_<base64 key>.
package stdwebhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// SecretPrefix starts every secret.
const SecretPrefix = "whsec_"

// MinKeyLen is the shortest key the specification allows, in bytes.
const MinKeyLen = 24

// The headers a signed request carries.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// ErrBadSecret is wrapped by the errors of NewSigner. They never quote
// the secret.
var ErrBadSecret = errors.New("bad webhook secret")

// Signer signs requests with one secret. It is safe for concurrent use.
type Signer struct {
	wh *standardwebhooks.Webhook
}

// NewSigner returns a Signer of secret, whsec_ followed by the standard
// base64 encoding of a key of at least MinKeyLen bytes.
func NewSigner(secret string) (*Signer, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: want %s followed by a base64 key", ErrBadSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: the part after %s is not standard base64", ErrBadSecret, SecretPrefix)
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("%w: the key is %d bytes, want at least %d", ErrBadSecret, len(key), MinKeyLen)
	}
	wh, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSecret, err)
	}
	return &Signer{wh: wh}, nil
}

// Sign sets h's webhook-id to id, its webhook-timestamp to at and its
// webhook-signature to the signature of body.
func (s *Signer) Sign(h http.Header, id string, at time.Time, body []byte) error {
	if id == "" {
		return errors.New("sign webhook: empty id")
	}
	sig, err := s.wh.Sign(id, at, body)
	if err != nil {
		return fmt.Errorf("sign webhook %s: %w", id, err)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}
