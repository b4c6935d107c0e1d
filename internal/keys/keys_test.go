package keys_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/keys"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p, err := keys.LoadOrCreate(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := codec.ParseKeys(p.Encryption); err != nil {
		t.Errorf("encryption key %q does not parse: %v", p.Encryption[:10], err)
	}
	if len(p.Contact) < 40 {
		t.Errorf("contact key has %d characters, want a 32-byte key", len(p.Contact))
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, keys.EncryptionFile), 0o600)
	assertMode(t, filepath.Join(dir, keys.ContactFile), 0o600)

	again, err := keys.LoadOrCreate(dir, now.Add(48*time.Hour))
	if err != nil || again != p {
		t.Errorf("second start made other keys (%v): keys must survive restarts", err)
	}
	loaded, err := keys.Load(dir)
	if err != nil || loaded != p {
		t.Errorf("Load = other keys than LoadOrCreate (%v)", err)
	}
}

func TestLoadOrCreateNarrowsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.LoadOrCreate(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
}

func TestLoadMissing(t *testing.T) {
	p, err := keys.Load(filepath.Join(t.TempDir(), "none"))
	if err != nil || p != (keys.Pair{}) {
		t.Errorf("Load of a missing directory = %v, %v; want no keys, no error", p, err)
	}
}

func TestNewIsRandom(t *testing.T) {
	a, _ := keys.New(time.Now())
	b, _ := keys.New(time.Now())
	if a.Encryption == b.Encryption || a.Contact == b.Contact {
		t.Error("two new pairs share a key")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
	}
}
