// Package keys makes and keeps Switchback's two secrets: the encryption
// key of Temporal payloads (SWITCHBACK_ENCRYPTION_KEY) and the contact key
// that hashes numbers into the SwitchbackContact search attribute
// (SWITCHBACK_CONTACT_KEY).
//
// Production processes read both from their environment; `switchback keys`
// prints a fresh pair to put there. `switchback dev` keeps a pair of its
// own in its data directory (LoadOrCreate), and the CLI commands run beside
// it read that pair (Load), so that a journey is encrypted from the first
// start without anyone setting a variable.
package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/internal/codec"
)

// Files under the data directory.
const (
	// EncryptionFile holds the encryption key as id:base64key.
	EncryptionFile = "encryption.key"
	// ContactFile holds the contact key.
	ContactFile = "contact.key"
)

// contactKeySize is the contact key's length in random bytes.
const contactKeySize = 32

// Pair is an encryption key and a contact key, in the form of their
// environment variables.
type Pair struct {
	// Encryption is a SWITCHBACK_ENCRYPTION_KEY value: id:base64key.
	Encryption string
	// Contact is a SWITCHBACK_CONTACT_KEY value.
	Contact string
}

// New makes a fresh pair from crypto/rand; the encryption key's id is
// made of now's date.
func New(now time.Time) (Pair, error) {
	enc := make([]byte, codec.KeySize)
	contact := make([]byte, contactKeySize)
	if _, err := rand.Read(enc); err != nil {
		return Pair{}, fmt.Errorf("make encryption key: %w", err)
	}
	if _, err := rand.Read(contact); err != nil {
		return Pair{}, fmt.Errorf("make contact key: %w", err)
	}
	return Pair{
		Encryption: "k" + now.UTC().Format("20060102") + ":" + base64.StdEncoding.EncodeToString(enc),
		Contact:    base64.RawURLEncoding.EncodeToString(contact),
	}, nil
}

// Load reads the pair kept in dir. A key whose file does not exist is
// empty; a directory without either file is no error.
func Load(dir string) (Pair, error) {
	var p Pair
	var err error
	if p.Encryption, err = readKey(filepath.Join(dir, EncryptionFile)); err != nil {
		return Pair{}, err
	}
	if p.Contact, err = readKey(filepath.Join(dir, ContactFile)); err != nil {
		return Pair{}, err
	}
	return p, nil
}

// LoadOrCreate reads the pair kept in dir, first making dir (mode 0700)
// and each missing key file (mode 0600). dir's mode is narrowed to 0700
// if it was wider, since the files in it are secrets.
func LoadOrCreate(dir string, now time.Time) (Pair, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Pair{}, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return Pair{}, fmt.Errorf("data directory %s: %w", dir, err)
	}
	fresh, err := New(now)
	if err != nil {
		return Pair{}, err
	}
	var p Pair
	if p.Encryption, err = ensureKey(filepath.Join(dir, EncryptionFile), fresh.Encryption); err != nil {
		return Pair{}, err
	}
	if p.Contact, err = ensureKey(filepath.Join(dir, ContactFile), fresh.Contact); err != nil {
		return Pair{}, err
	}
	return p, nil
}

func readKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ensureKey returns the key in path, writing fresh there first when there
// is none. It never replaces a file: of two processes starting at once,
// the second reads the key the first wrote.
func ensureKey(path, fresh string) (string, error) {
	if key, err := readKey(path); err != nil || key != "" {
		return key, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKey(path)
	}
	if err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	if _, err := f.WriteString(fresh + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write key %s: %w", path, err)
	}
	return fresh, nil
}
