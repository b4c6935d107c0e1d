package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

func TestRecordAndLookup(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "switchback.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ref := store.MessageRef{Provider: "whatsapp", MessageID: "wamid.1", WorkflowID: "otp-1", Attempt: 1, Channel: channels.WhatsApp}
	if err := s.RecordMessage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	// A repeated record (an activity retried after its result was lost) keeps the first.
	again := ref
	again.Attempt = 2
	if err := s.RecordMessage(ctx, again); err != nil {
		t.Fatalf("second record: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The record survives a reopen.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LookupMessage(ctx, "whatsapp", "wamid.1")
	if err != nil {
		t.Fatal(err)
	}
	if got != ref {
		t.Errorf("LookupMessage = %+v, want %+v", got, ref)
	}
	if _, err := s.LookupMessage(ctx, "twilio", "wamid.1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lookup under another provider: err = %v, want ErrNotFound", err)
	}
}
