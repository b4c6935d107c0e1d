package config

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/internal/codec"
)

func TestFromEnvEncryption(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, codec.KeySize))
	c, err := FromEnv(env(map[string]string{
		"SWITCHBACK_ENCRYPTION_KEY": "2026-06:" + k + ",2025-12:" + k,
		"SWITCHBACK_CODEC_TOKEN":    "tok",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.EncryptionKeys) != 2 || c.EncryptionKeys[0].ID != "2026-06" || c.CodecToken != "tok" {
		t.Errorf("config = %v %q", c.EncryptionKeys, c.CodecToken)
	}
	if c.CodecCORSOrigin != codec.DefaultCORSOrigin {
		t.Errorf("CodecCORSOrigin = %q, want the default", c.CodecCORSOrigin)
	}

	c, err = FromEnv(env(nil))
	if err != nil || c.EncryptionKeys != nil {
		t.Errorf("no key set: %v, %v", c.EncryptionKeys, err)
	}

	for name, set := range map[string]map[string]string{
		"SWITCHBACK_ENCRYPTION_KEY":    {"SWITCHBACK_ENCRYPTION_KEY": "k1:" + base64.StdEncoding.EncodeToString([]byte("short"))},
		"SWITCHBACK_CODEC_CORS_ORIGIN": {"SWITCHBACK_CODEC_CORS_ORIGIN": "127.0.0.1:8233"},
	} {
		_, err := FromEnv(env(set))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", set, err, name)
		}
	}
}
