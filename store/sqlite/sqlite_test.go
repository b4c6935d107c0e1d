package sqlite

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/storetest"
)

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "switchback.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSuiteInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s, err := OpenWith(context.Background(), ":memory:", opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopen checks that records survive a reopen, which migrates nothing
// twice, and that a store made before migrations existed is adopted.
func TestReopen(t *testing.T) {
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
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.LookupMessage(ctx, "whatsapp", "wamid.1")
	if err != nil {
		t.Fatal(err)
	}
	if got != ref {
		t.Errorf("LookupMessage after reopen = %+v, want %+v", got, ref)
	}
}

// TestAdoptsOldStore opens a file made by the store before migrations,
// which created message_refs by itself.
func TestAdoptsOldStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchback.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Make it look old: forget the migrations, keep message_refs and a row.
	db := s.DB()
	for _, q := range []string{
		`INSERT INTO message_refs (provider, message_id, workflow_id, attempt, channel) VALUES ('twilio', 'SM1', 'otp-2', 2, 'sms')`,
		`ALTER TABLE message_refs DROP COLUMN journey`, `ALTER TABLE message_refs DROP COLUMN step`, `ALTER TABLE message_refs DROP COLUMN template`,
		`ALTER TABLE message_refs DROP COLUMN contact_key`, `ALTER TABLE message_refs DROP COLUMN await`, `ALTER TABLE message_refs DROP COLUMN awaited`,
		`DROP TABLE number_states`, `DROP TABLE tier_recipients`, `DROP TABLE tier_lock`, `DROP TABLE device_tokens`, `DROP TABLE contact_tags`, `DROP TABLE segment_members`, `DROP TABLE segments`, `DROP TABLE frequency_reservations`, `DROP TABLE frequency_keys`, `DROP TABLE event_outbox`, `DROP TABLE inbound_messages`, `DROP TABLE templates`, `DROP TABLE message_events`, `DROP TABLE inbound`, `DROP TABLE reachability`,
		`DROP TABLE suppressions`, `DROP TABLE consents`, `DROP TABLE contacts`, `DROP TABLE goose_db_version`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("open an old store: %v", err)
	}
	defer s.Close()
	if _, err := s.LookupMessage(ctx, "twilio", "SM1"); err != nil {
		t.Errorf("old message ref lost: %v", err)
	}
	if err := s.RecordInbound(ctx, "k", channels.SMS, time.Now()); err != nil {
		t.Errorf("new tables missing: %v", err)
	}
}

// BenchmarkReserveRecipient reserves new recipients of the messaging limit
// with the rolling window already holding 1,000 recipients, and 100,000
// (a day at TIER_100K): every WhatsApp template send outside the window
// makes one reservation, one at a time, so its cost must not grow with
// the window (`go test -run '^$' -bench ReserveRecipient ./store/sqlite`;
// compare the two lines' ns/op).
func BenchmarkReserveRecipient(b *testing.B) {
	for _, held := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "switchback.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			at := time.Now()
			if _, err := s.ReserveRecipient(ctx, "first", 1, at.Add(-time.Hour)); err != nil {
				b.Fatal(err)
			}
			// The others as copies of the first row, in one statement, and
			// the count a reservation keeps.
			if _, err := s.DB().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO tier_recipients (contact_key, at) SELECT 'held-' || i, (SELECT at FROM tier_recipients) FROM n`, held-1); err != nil {
				b.Fatal(err)
			}
			if _, err := s.DB().ExecContext(ctx, `UPDATE tier_lock SET recipients = (SELECT COUNT(*) FROM tier_recipients)`); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if ok, err := s.ReserveRecipient(ctx, fmt.Sprintf("new-%d", i), math.MaxInt32, at); err != nil || !ok {
					b.Fatalf("reservation %d: %v, %v", i, ok, err)
				}
			}
		})
	}
}
