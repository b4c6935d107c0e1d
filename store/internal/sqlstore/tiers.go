package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// ReserveRecipient counts a recipient against the messaging limit in one
// transaction. Its first statement writes the one row of tier_lock:
// PostgreSQL then holds the row's lock, SQLite the database's write lock,
// until the transaction ends, so a racing reservation counts only after
// this one committed. That row also keeps the number of recipients in the
// window, so a reservation reads one row instead of counting a day of
// them. Recipients that left the window are deleted as it goes, so the
// table holds about one window of recipients.
func (s *Store) ReserveRecipient(ctx context.Context, contactKey string, limit int, at time.Time) (bool, error) {
	if limit < 0 || contactKey == "" {
		return false, errors.New("reserve a messaging-limit slot: want a limit of 0 or more and a contact key")
	}
	ok, err := s.reserveRecipient(ctx, contactKey, limit, at)
	if err != nil {
		return false, fmt.Errorf("reserve a messaging-limit slot: %w", err)
	}
	return ok, nil
}

func (s *Store) reserveRecipient(ctx context.Context, key string, limit int, at time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() // after Commit, a no-op
	var held int
	if err := tx.QueryRowContext(ctx, s.rebind(`INSERT INTO tier_lock (id, touched_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET touched_at = excluded.touched_at RETURNING recipients`), ts(at)).Scan(&held); err != nil {
		return false, err
	}
	since := ts(at.Add(-store.TierWindow))
	var last time.Time
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT at FROM tier_recipients WHERE contact_key = ? AND at > ?`), key, since).
		Scan(timeCol{&last})
	switch {
	case err == nil:
		// Counted in the window already: the message goes, uncounted.
		if at.After(last) {
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE tier_recipients SET at = ? WHERE contact_key = ?`), ts(at), key); err != nil {
				return false, err
			}
		}
		return true, tx.Commit()
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM tier_recipients WHERE at <= ?`), since)
	if err != nil {
		return false, err
	}
	gone, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	n := held - int(gone)
	if n >= limit {
		return false, nil // and the deletion rolls back with the count
	}
	// The key is not in the table now: it was not in the window, and
	// what was before the window is gone.
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO tier_recipients (contact_key, at) VALUES (?, ?)`), key, ts(at)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE tier_lock SET recipients = ? WHERE id = 1`), n+1); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// TierUsage counts the recipients of the window ending at at.
func (s *Store) TierUsage(ctx context.Context, at time.Time) (store.TierUsage, error) {
	var u store.TierUsage
	since := ts(at.Add(-store.TierWindow))
	q := `SELECT COUNT(*), MIN(at) FROM tier_recipients WHERE at > ? AND at <= ?`
	if err := s.queryRow(ctx, q, since, ts(at)).Scan(&u.Recipients, nullTime{&u.Oldest}); err != nil {
		return store.TierUsage{}, fmt.Errorf("read messaging-limit usage: %w", err)
	}
	return u, nil
}

// SetNumberState upserts an account's number state, keeping the stored
// tier, quality and event that st leaves empty.
func (s *Store) SetNumberState(ctx context.Context, st store.NumberState) error {
	if st.Account == "" {
		return errors.New("record number state: no account")
	}
	_, err := s.exec(ctx, `INSERT INTO number_states (account, tier, quality, event, flagged, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET
			tier = CASE WHEN excluded.tier = '' THEN number_states.tier ELSE excluded.tier END,
			quality = CASE WHEN excluded.quality = '' THEN number_states.quality ELSE excluded.quality END,
			event = CASE WHEN excluded.event = '' THEN number_states.event ELSE excluded.event END,
			flagged = excluded.flagged, updated_at = excluded.updated_at`,
		st.Account, st.Tier, st.Quality, st.Event, st.Flagged, ts(st.UpdatedAt))
	if err != nil {
		return fmt.Errorf("record number state of %s: %w", st.Account, err)
	}
	return nil
}

// NumberStates lists the number states by account.
func (s *Store) NumberStates(ctx context.Context) ([]store.NumberState, error) {
	rows, err := s.query(ctx, `SELECT account, tier, quality, event, flagged, updated_at FROM number_states ORDER BY account`)
	if err != nil {
		return nil, fmt.Errorf("list number states: %w", err)
	}
	defer rows.Close()
	var out []store.NumberState
	for rows.Next() {
		var st store.NumberState
		if err := rows.Scan(&st.Account, &st.Tier, &st.Quality, &st.Event, &st.Flagged, timeCol{&st.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list number states: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list number states: %w", err)
	}
	return out, nil
}

// RecentOutcomes groups the newest events under prefix on ch by message,
// newest first by the message's first event, and counts the newest n whose
// first event is not before since: a failure that arrives after since for
// a message sent before is not counted. It reads only the newest 4n events
// (a message has up to four: accepted, sent, delivered or failed, read),
// walking the log from its end, so that its cost follows n, not the
// broadcast's size.
func (s *Store) RecentOutcomes(ctx context.Context, prefix string, ch channels.Channel, since time.Time, n int) (store.SendOutcomes, error) {
	upper, err := prefixEnd(prefix)
	if err != nil {
		return store.SendOutcomes{}, err
	}
	// The concatenation keeps the planners off the workflow_id index,
	// which would read every event of the prefix to sort them.
	col := "(workflow_id || '')" + s.dialect.Bytewise
	q := `SELECT MAX(CASE WHEN status = ? THEN 1 ELSE 0 END), MAX(CASE WHEN status = ? THEN error_code ELSE '' END)
		FROM (SELECT id, provider, message_id, status, error_code, at FROM message_events
			WHERE ` + col + ` >= ? AND ` + col + ` < ? AND channel = ? AND status IN (?, ?, ?, ?, ?)
			ORDER BY id DESC LIMIT ?) e
		GROUP BY provider, message_id HAVING MIN(at) >= ? ORDER BY MIN(id) DESC LIMIT ?`
	failed := string(store.EventFailed)
	rows, err := s.query(ctx, q, failed, failed, prefix, upper, string(ch), string(store.EventAccepted), string(store.EventSent),
		string(store.EventDelivered), string(store.EventRead), failed, 4*n, ts(since), n)
	if err != nil {
		return store.SendOutcomes{}, fmt.Errorf("count outcomes under %q: %w", prefix, err)
	}
	defer rows.Close()
	var o store.SendOutcomes
	for rows.Next() {
		var f int
		var code string
		if err := rows.Scan(&f, &code); err != nil {
			return store.SendOutcomes{}, fmt.Errorf("count outcomes under %q: %w", prefix, err)
		}
		o.Sends++
		if f == 1 {
			if o.Failures == nil {
				o.Failures = map[string]int{}
			}
			o.Failures[code]++
		}
	}
	if err := rows.Err(); err != nil {
		return store.SendOutcomes{}, fmt.Errorf("count outcomes under %q: %w", prefix, err)
	}
	return o, nil
}

// nullTime scans a time that may be NULL, which leaves it zero.
type nullTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c nullTime) Scan(src any) error {
	if src == nil {
		return nil
	}
	return timeCol(c).Scan(src)
}
