package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// testKey returns a key whose secret is id repeated to KeySize bytes.
func testKey(id string) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte(id[:1]), KeySize)}
}

func newCodec(t *testing.T, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// phonePayload is a payload as the default data converter makes it, with
// a phone number in it.
func phonePayload(t *testing.T) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"to": "+15551234567"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encodeOne(t *testing.T, c *Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, testKey("k1"))
	p := phonePayload(t)
	enc := encodeOne(t, c, p)
	if got := string(enc.Metadata[converter.MetadataEncoding]); got != MetadataEncoding {
		t.Errorf("encoding = %q, want %q", got, MetadataEncoding)
	}
	if got := string(enc.Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key id = %q, want k1", got)
	}
	if bytes.Contains(enc.Data, []byte("15551234567")) || bytes.Contains(enc.Data, []byte("json/plain")) {
		t.Error("encrypted payload holds the phone number or the inner encoding in clear")
	}
	dec, err := c.Decode([]*commonpb.Payload{enc})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], p) {
		t.Errorf("decoded %v, want %v", dec[0], p)
	}
	// Two encryptions of the same payload differ (random nonce).
	if again := encodeOne(t, c, p); bytes.Equal(again.Data, enc.Data) {
		t.Error("same ciphertext twice: nonce reused")
	}
}

func TestDecodeRefusesPlainPayloads(t *testing.T) {
	c := newCodec(t, testKey("k1"))
	_, err := c.Decode([]*commonpb.Payload{phonePayload(t)})
	if !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("Decode of a plain payload: %v, want ErrNotEncrypted", err)
	}
	if !strings.Contains(err.Error(), "SWITCHBACK_INSECURE_PLAINTEXT") {
		t.Errorf("error %q does not name the opt-out", err)
	}
}

func TestDecodeAllowPlaintext(t *testing.T) {
	c, err := New([]Key{testKey("k1")}, Options{AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	p := phonePayload(t)
	out, err := c.Decode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != p {
		t.Errorf("plain payload changed: %v", out[0])
	}
}

func TestRotation(t *testing.T) {
	old := newCodec(t, testKey("old"))
	enc := encodeOne(t, old, phonePayload(t))

	rotated := newCodec(t, testKey("new"), testKey("old"))
	if got := string(encodeOne(t, rotated, phonePayload(t)).Metadata[MetadataKeyID]); got != "new" {
		t.Errorf("rotated codec encodes with %q, want new", got)
	}
	dec, err := rotated.Decode([]*commonpb.Payload{enc})
	if err != nil {
		t.Fatalf("a payload of the old key: %v", err)
	}
	if !proto.Equal(dec[0], phonePayload(t)) {
		t.Errorf("decoded %v", dec[0])
	}
}

func TestDecodeErrors(t *testing.T) {
	c := newCodec(t, testKey("k1"), testKey("k2"))
	tests := []struct {
		name   string
		change func(*commonpb.Payload)
		want   string
	}{
		{"unknown key id", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("gone") }, `key id "gone" is not among the known keys`},
		{"relabelled key id", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k2") }, `key "k2"`},
		{"tampered ciphertext", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 }, "message authentication failed"},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:5] }, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encodeOne(t, c, phonePayload(t))
			tt.change(enc)
			_, err := c.Decode([]*commonpb.Payload{enc})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	keys, err := ParseKeys(" new:" + k32 + ", old:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" || keys[1].Secret[0] != 9 {
		t.Errorf("keys = %v", keys)
	}
	short := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	for _, bad := range []string{"", k32, ":" + k32, "a:" + short, "a:not base64!", "a:" + k32 + ",a:" + k32} {
		_, err := ParseKeys(bad)
		if err == nil {
			t.Errorf("ParseKeys(%q): want an error", bad)
			continue
		}
		if strings.Contains(err.Error(), k32) || strings.Contains(err.Error(), short) {
			t.Errorf("ParseKeys(%q): error %q shows the secret", bad, err)
		}
	}
}

func TestFormatKeysRoundTrip(t *testing.T) {
	keys := []Key{testKey("new"), testKey("old")}
	got, err := ParseKeys(FormatKeys(keys))
	if err != nil || len(got) != 2 || got[0].ID != "new" || !bytes.Equal(got[1].Secret, keys[1].Secret) {
		t.Errorf("ParseKeys(FormatKeys(keys)) = %v, %v", got, err)
	}
}
