package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// DefaultFile is the registry's file name in the data directory.
const DefaultFile = "templates.json"

// file is the registry file's content.
type file struct {
	WABAID    string     `json:"waba_id,omitempty"`
	SyncedAt  time.Time  `json:"synced_at"`
	Templates []Template `json:"templates"`
}

// Registry is a template registry kept in a JSON file. It reads the file
// on every lookup, so a `switchback templates sync` shows at once in a
// running worker. It is safe for concurrent use within a process; writes
// replace the file atomically.
type Registry struct {
	path string
	mu   sync.Mutex // serialises read-modify-write
}

// NewRegistry returns the registry kept in the file at path, which need
// not exist yet.
func NewRegistry(path string) *Registry { return &Registry{path: path} }

// Path returns the registry's file.
func (r *Registry) Path() string { return r.path }

// load reads the file; a missing file is an empty registry.
func (r *Registry) load() (file, bool, error) {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return file{}, false, nil
	}
	if err != nil {
		return file{}, false, fmt.Errorf("read template registry: %w", err)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return file{}, false, fmt.Errorf("template registry %s is not valid JSON: %w", r.path, err)
	}
	return f, true, nil
}

// save writes f through a temporary file and a rename.
func (r *Registry) save(f file) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode template registry: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("template registry directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), ".templates-*.json")
	if err != nil {
		return fmt.Errorf("write template registry: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write template registry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write template registry: %w", err)
	}
	if err := os.Rename(tmp.Name(), r.path); err != nil {
		return fmt.Errorf("write template registry: %w", err)
	}
	return nil
}

// List returns the registered templates, sorted by name and language, and
// when they were last synced (zero if never).
func (r *Registry) List(_ context.Context) ([]Template, time.Time, error) {
	f, _, err := r.load()
	if err != nil {
		return nil, time.Time{}, err
	}
	ts := slices.Clone(f.Templates)
	slices.SortFunc(ts, func(a, b Template) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Language, b.Language)
	})
	return ts, f.SyncedAt, nil
}

// Replace makes ts, as synced from the account wabaID at time at, the
// registry's content.
func (r *Registry) Replace(_ context.Context, wabaID string, ts []Template, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.save(file{WABAID: wabaID, SyncedAt: at.UTC(), Templates: ts})
}

// Templates returns every language of the template name, for the WhatsApp
// sender's pre-send check. A registry that was never synced answers
// whatsapp.ErrNoTemplates, so that the check is skipped.
func (r *Registry) Templates(_ context.Context, name string) ([]whatsapp.TemplateInfo, error) {
	f, ok, err := r.load()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, whatsapp.ErrNoTemplates
	}
	var out []whatsapp.TemplateInfo
	for _, t := range f.Templates {
		if t.Name == name {
			out = append(out, t.Info())
		}
	}
	return out, nil
}

// statusOf returns the status a template has after a status webhook event,
// and false for events that do not change it (FLAGGED warns of a coming
// pause; the status stays).
func statusOf(event string) (string, bool) {
	switch event {
	case "FLAGGED", "":
		return "", false
	case "REINSTATED", "UNARCHIVED":
		return whatsapp.StatusApproved, true
	}
	return event, true
}

// ApplyStatus records a message_template_status_update. It reports false
// for a template the registry does not have (a sync adds it with its
// components); a deleted template is removed.
func (r *Registry) ApplyStatus(_ context.Context, u whatsapp.TemplateStatusUpdate) (bool, error) {
	status, changes := statusOf(u.Event)
	r.mu.Lock()
	defer r.mu.Unlock()
	f, _, err := r.load()
	if err != nil {
		return false, err
	}
	i := slices.IndexFunc(f.Templates, func(t Template) bool {
		return t.Name == u.Name && whatsapp.SameLanguage(t.Language, u.Language)
	})
	if i < 0 {
		return false, nil
	}
	if !changes {
		return true, nil
	}
	if status == "DELETED" {
		f.Templates = slices.Delete(f.Templates, i, i+1)
	} else {
		f.Templates[i].Status = status
		if u.Category != "" {
			f.Templates[i].Category = u.Category
		}
		f.Templates[i].RejectedReason = ""
		if status == "REJECTED" && u.Reason != "" {
			f.Templates[i].RejectedReason = u.Reason
		}
	}
	return true, r.save(f)
}
