package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
)

// Store is the part of store.Store that keeps the registry.
type Store interface {
	ReplaceTemplates(ctx context.Context, wabaID string, ts []store.Template, at time.Time) error
	ListTemplates(ctx context.Context) ([]store.Template, error)
	SetTemplateStatus(ctx context.Context, name, language string, st store.TemplateStatus) error
}

// statusDeleted is the status of a template that a webhook reported
// deleted: the store keeps it until the next sync, the registry hides it.
const statusDeleted = "DELETED"

// Registry is the template registry, kept in the store. It reads the store
// on every lookup, so a `switchback templates sync` shows at once in a
// running worker. It is safe for concurrent use.
type Registry struct {
	st Store
	mu sync.Mutex // serialises status updates within a process
}

// NewRegistry returns the registry kept in st.
func NewRegistry(st Store) *Registry { return &Registry{st: st} }

// load returns the templates in the store, deleted ones included, and
// when they were synced (zero if never).
func (r *Registry) load(ctx context.Context) ([]Template, time.Time, error) {
	rows, err := r.st.ListTemplates(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read template registry: %w", err)
	}
	ts := make([]Template, 0, len(rows))
	var at time.Time
	for _, row := range rows {
		var t Template
		if len(row.Data) > 0 {
			if err := json.Unmarshal(row.Data, &t); err != nil {
				return nil, time.Time{}, fmt.Errorf("template %s (%s) in the store is not valid JSON: %w", row.Name, row.Language, err)
			}
		}
		t.Name, t.Language, t.Category, t.Status, t.RejectedReason = row.Name, row.Language, row.Category, row.Status, row.RejectedReason
		ts = append(ts, t)
		if row.SyncedAt.After(at) {
			at = row.SyncedAt
		}
	}
	return ts, at, nil
}

// List returns the registered templates, sorted by name and language, and
// when they were last synced (zero if never).
func (r *Registry) List(ctx context.Context) ([]Template, time.Time, error) {
	all, at, err := r.load(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	var ts []Template
	for _, t := range all {
		if t.Status != statusDeleted {
			ts = append(ts, t)
		}
	}
	return ts, at, nil
}

// Replace makes ts, as synced from the account wabaID at time at, the
// registry's content.
func (r *Registry) Replace(ctx context.Context, wabaID string, ts []Template, at time.Time) error {
	rows := make([]store.Template, 0, len(ts))
	for _, t := range ts {
		data, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode template %s (%s): %w", t.Name, t.Language, err)
		}
		rows = append(rows, store.Template{Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status,
			RejectedReason: t.RejectedReason, Data: data})
	}
	if err := r.st.ReplaceTemplates(ctx, wabaID, rows, at.UTC()); err != nil {
		return fmt.Errorf("write template registry: %w", err)
	}
	return nil
}

// Templates returns every language of the template name, for the WhatsApp
// sender's pre-send check. A registry that was never synced answers
// whatsapp.ErrNoTemplates, so that the check is skipped.
func (r *Registry) Templates(ctx context.Context, name string) ([]whatsapp.TemplateInfo, error) {
	all, _, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, whatsapp.ErrNoTemplates
	}
	var out []whatsapp.TemplateInfo
	for _, t := range all {
		if t.Name == name && t.Status != statusDeleted {
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
func (r *Registry) ApplyStatus(ctx context.Context, u whatsapp.TemplateStatusUpdate) (bool, error) {
	status, changes := statusOf(u.Event)
	r.mu.Lock()
	defer r.mu.Unlock()
	all, _, err := r.load(ctx)
	if err != nil {
		return false, err
	}
	var found *Template
	for i, t := range all {
		if t.Name == u.Name && t.Status != statusDeleted && whatsapp.SameLanguage(t.Language, u.Language) {
			found = &all[i]
			break
		}
	}
	if found == nil {
		return false, nil
	}
	if !changes {
		return true, nil
	}
	st := store.TemplateStatus{Status: status, Category: u.Category}
	if status == "REJECTED" && u.Reason != "" {
		st.RejectedReason = u.Reason
	}
	err = r.st.SetTemplateStatus(ctx, found.Name, found.Language, st)
	if errors.Is(err, store.ErrNotFound) {
		// A sync replaced the registry meanwhile.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write template registry: %w", err)
	}
	return true, nil
}
