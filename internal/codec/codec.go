// Package codec encrypts Temporal payloads with AES-256-GCM so that
// phone numbers, email addresses and message content never reach Temporal's
// history in clear, and serves the same codec over HTTP so that the Web UI
// and the CLI can decode histories for authorised support staff.
//
// Each encrypted payload names the key that encrypted it in its metadata
// (MetadataKeyID): keys rotate by adding a new current key and keeping the
// old ones for decoding until no history needs them.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata of an encrypted payload.
const (
	// MetadataEncoding is the "encoding" of an encrypted payload.
	MetadataEncoding = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload.
	MetadataKeyID = "encryption-key-id"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Key is one encryption key and the id that payloads record.
type Key struct {
	ID     string
	Secret []byte
}

// String names the key without its secret, so that a key printed by
// mistake leaks nothing.
func (k Key) String() string { return "key " + k.ID }

// ParseKeys parses a comma-separated list of id:base64key items (standard
// or URL base64, padded or not), each key KeySize bytes. The first key is
// the current one. Errors name the item by position and id, never the
// secret.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, b64, ok := strings.Cut(item, ":")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("item %d: want id:base64key", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		seen[id] = true
		secret, err := decodeBase64(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("key %q: not base64", id)
		}
		if len(secret) != KeySize {
			return nil, fmt.Errorf("key %q: %d bytes, want %d (e.g. `openssl rand -base64 32`)", id, len(secret), KeySize)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("no key: want id:base64key[,id:base64key...]")
	}
	return keys, nil
}

// FormatKeys writes keys in the form ParseKeys reads (id:base64key,...).
// The result holds the secrets: give it only to a process's environment.
func FormatKeys(keys []Key) string {
	items := make([]string, len(keys))
	for i, k := range keys {
		items[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(items, ",")
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// ErrNotEncrypted is the error of Decode given a payload that is not
// encrypted, unless Options.AllowPlaintext.
var ErrNotEncrypted = errors.New("payload is not encrypted")

// Options configures New.
type Options struct {
	// AllowPlaintext makes Decode return payloads that are not encrypted
	// as they are (SWITCHBACK_INSECURE_PLAINTEXT: histories written before
	// a key was set). Otherwise they are an error: a client without the
	// key must not be able to start journeys in clear.
	AllowPlaintext bool
}

// Codec is a converter.PayloadCodec that encrypts with its current key and
// decrypts with any key it knows. It is safe for concurrent use.
type Codec struct {
	current        string
	aeads          map[string]cipher.AEAD
	allowPlaintext bool
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a Codec that encrypts with keys[0] and decrypts with any of
// keys.
func New(keys []Key, opts Options) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no key")
	}
	c := &Codec{current: keys[0].ID, aeads: map[string]cipher.AEAD{}, allowPlaintext: opts.AllowPlaintext}
	for _, k := range keys {
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key id %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q: %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// CurrentKeyID returns the id of the key that Encode uses.
func (c *Codec) CurrentKeyID() string { return c.current }

// Encode encrypts each payload, metadata and data, with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("encrypt payload: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncoding),
				MetadataKeyID:              []byte(c.current),
			},
			// The key id is authenticated: a payload relabelled with
			// another key id does not decrypt.
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key its metadata names.
// A payload that is not encrypted is an error wrapping ErrNotEncrypted,
// or returned as it is with Options.AllowPlaintext.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != MetadataEncoding {
			if !c.allowPlaintext {
				return payloads, fmt.Errorf("decrypt payload: %w (encoding %q): start journeys with the encryption key (SWITCHBACK_ENCRYPTION_KEY, the /codec endpoint or the HTTP API), or set SWITCHBACK_INSECURE_PLAINTEXT=1 to accept them", ErrNotEncrypted, enc)
			}
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("decrypt payload: encryption key id %q is not among the known keys (SWITCHBACK_ENCRYPTION_KEY)", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("decrypt payload with key %q: ciphertext too short", id)
		}
		nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("decrypt payload with key %q: %w", id, err)
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return payloads, fmt.Errorf("decrypt payload with key %q: %w", id, err)
		}
		out[i] = &dp
	}
	return out, nil
}
