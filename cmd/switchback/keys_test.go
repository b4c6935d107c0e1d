package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/keys"
)

// runEnv runs switchback with args and the environment vars.
func runEnv(vars map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	return run(context.Background(), e, args), out.String(), errOut.String()
}

// `worker` and `serve` refuse to start without both keys, naming them and
// the command that makes them; the opt-out lets them go on, with a warning.
func TestServerCommandsNeedKeys(t *testing.T) {
	for _, cmd := range []string{"worker", "serve"} {
		code, _, errOut := runEnv(map[string]string{"SWITCHBACK_DATA_DIR": t.TempDir()}, cmd)
		for _, want := range []string{"SWITCHBACK_ENCRYPTION_KEY", "SWITCHBACK_CONTACT_KEY", "switchback keys", "SWITCHBACK_INSECURE_PLAINTEXT=1"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("%s without keys = %d, stderr %q lacks %q", cmd, code, errOut, want)
			}
		}
		code, _, errOut = runEnv(map[string]string{"SWITCHBACK_DATA_DIR": t.TempDir(), "SWITCHBACK_INSECURE_PLAINTEXT": "1"}, cmd)
		if code != 1 || strings.Contains(errOut, "switchback keys") || !strings.Contains(errOut, "SWITCHBACK_INSECURE_PLAINTEXT=1: payloads may be in clear") {
			t.Errorf("%s with the opt-out = %d, stderr %q: want the warning, then the next missing setting", cmd, code, errOut)
		}
	}
}

// `keys` prints environment lines that the configuration accepts and that
// satisfy the production commands.
func TestKeysCommand(t *testing.T) {
	code, out, errOut := runEnv(nil, "keys")
	if code != 0 {
		t.Fatalf("keys = %d, %s", code, errOut)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = v
		}
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("the printed keys do not configure: %v\n%s", err, out)
	}
	if err := cfg.CheckKeys(); err != nil {
		t.Errorf("CheckKeys with the printed keys: %v", err)
	}
	if _, again, _ := runEnv(nil, "keys"); again == out {
		t.Error("two runs printed the same keys")
	}
}

// A client command without the workers' key refuses to connect, and says
// where the key comes from.
func TestClientCommandsNeedKey(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runEnv(map[string]string{"SWITCHBACK_DATA_DIR": dir}, "status", "some-id")
	if code != 1 || !strings.Contains(errOut, "SWITCHBACK_ENCRYPTION_KEY") || !strings.Contains(errOut, dir) {
		t.Errorf("status without a key = %d, %q", code, errOut)
	}
}

// The commands run beside dev read its keys from the data directory.
func TestLoadConfigReadsDevKeys(t *testing.T) {
	dir := t.TempDir()
	p, err := keys.LoadOrCreate(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(&env{getenv: func(k string) string { return map[string]string{"SWITCHBACK_DATA_DIR": dir}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.EncryptionKeys) != 1 || cfg.ContactKey != p.Contact {
		t.Errorf("config from dev's data directory: %d encryption keys, contact key set %v", len(cfg.EncryptionKeys), cfg.ContactKey != "")
	}
}
