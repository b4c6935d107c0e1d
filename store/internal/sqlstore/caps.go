package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// ReserveSend takes a send of key's cap in one transaction. Its first
// statement writes key's row in frequency_keys: PostgreSQL then holds the
// row's lock, SQLite the database's write lock, until the transaction
// ends, so a racing reservation counts only after this one committed.
// Reservations older than the window are deleted as it goes, so the
// table holds about one window of sends.
func (s *Store) ReserveSend(ctx context.Context, key store.CapKey, limit store.CapLimit, reservationID string, at time.Time) (bool, error) {
	if limit.Sends < 0 || limit.Window <= 0 || reservationID == "" {
		return false, fmt.Errorf("reserve a %s send on %s: want a limit of 0 or more sends, a positive window and a reservation id", key.Purpose, key.Channel)
	}
	ok, err := s.reserveSend(ctx, key, limit, reservationID, at)
	if err != nil {
		return false, fmt.Errorf("reserve a %s send on %s: %w", key.Purpose, key.Channel, err)
	}
	return ok, nil
}

func (s *Store) reserveSend(ctx context.Context, key store.CapKey, limit store.CapLimit, id string, at time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() // after Commit, a no-op
	k := []any{key.ContactKey, string(key.Channel), key.Purpose}
	if _, err := tx.ExecContext(ctx, s.rebind(
		`INSERT INTO frequency_keys (contact_key, channel, purpose, touched_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (contact_key, channel, purpose) DO UPDATE SET touched_at = excluded.touched_at`),
		append(k, ts(at))...); err != nil {
		return false, err
	}
	var one int
	err = tx.QueryRowContext(ctx, s.rebind(
		`SELECT 1 FROM frequency_reservations WHERE contact_key = ? AND channel = ? AND purpose = ? AND reservation_id = ?`),
		append(k, id)...).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	// Reservations that left the window count no more: drop them.
	since := ts(at.Add(-limit.Window))
	if _, err := tx.ExecContext(ctx, s.rebind(
		`DELETE FROM frequency_reservations WHERE contact_key = ? AND channel = ? AND purpose = ? AND at <= ?`),
		append(k, since)...); err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(
		`SELECT COUNT(*) FROM frequency_reservations WHERE contact_key = ? AND channel = ? AND purpose = ? AND at > ?`),
		append(k, since)...).Scan(&n); err != nil {
		return false, err
	}
	if n >= limit.Sends {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, s.rebind(
		`INSERT INTO frequency_reservations (contact_key, channel, purpose, reservation_id, at) VALUES (?, ?, ?, ?, ?)`),
		append(k, id, ts(at))...); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
