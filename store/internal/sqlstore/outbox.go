package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// ClaimOutbox leases up to limit due outbox events. The outer due_at
// condition makes a claim that waited for another's row lock (PostgreSQL
// rechecks it on the updated row) skip the row the other just leased.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim outbox events: limit %d and lease %v must be positive", limit, lease)
	}
	rows, err := s.query(ctx,
		`UPDATE event_outbox SET due_at = ?, claims = claims + 1
		 WHERE due_at <= ? AND event_id IN (
		   SELECT event_id FROM event_outbox WHERE due_at <= ? ORDER BY due_at, event_id LIMIT ?)
		 RETURNING event_id, claims`,
		ts(now.Add(lease)), ts(now), ts(now), limit)
	claimed, err := collect(rows, err, func(r interface{ Scan(...any) error }) (store.OutboxEvent, error) {
		var o store.OutboxEvent
		err := r.Scan(&o.Seq, &o.Claims)
		return o, err
	}, "event outbox")
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	return s.outboxEvents(ctx, claimed)
}

// outboxEvents fills in the events of claimed, ordered by Seq.
func (s *Store) outboxEvents(ctx context.Context, claimed []store.OutboxEvent) ([]store.OutboxEvent, error) {
	bySeq := make(map[int64]store.OutboxEvent, len(claimed))
	args := make([]any, len(claimed))
	for i, o := range claimed {
		bySeq[o.Seq] = o
		args[i] = o.Seq
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	rows, err := s.query(ctx,
		`SELECT id, `+eventColumns+` FROM message_events WHERE id IN (`+marks+`) ORDER BY id`, args...)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (store.OutboxEvent, error) {
		var seq int64
		e, err := scanEvent(prefixScanner{r, &seq})
		o := bySeq[seq]
		o.Event = e
		return o, err
	}, "outbox events")
}

// prefixScanner scans a row's first column into first, the rest with Scan's arguments.
type prefixScanner struct {
	r     interface{ Scan(...any) error }
	first any
}

// Scan implements the row's Scan.
func (p prefixScanner) Scan(dest ...any) error {
	return p.r.Scan(append([]any{p.first}, dest...)...)
}

// AckOutbox removes a delivered event from the outbox.
func (s *Store) AckOutbox(ctx context.Context, seq int64) error {
	if _, err := s.exec(ctx, `DELETE FROM event_outbox WHERE event_id = ?`, seq); err != nil {
		return fmt.Errorf("acknowledge outbox event %d: %w", seq, err)
	}
	return nil
}

// RetryOutbox makes a claimed event due again at at, unless claimed since.
func (s *Store) RetryOutbox(ctx context.Context, seq int64, claims int, at time.Time, lastErr string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE event_outbox SET due_at = ?, last_error = ? WHERE event_id = ? AND claims = ?`,
		ts(at), lastErr, seq, claims)
	if err != nil {
		return false, fmt.Errorf("retry outbox event %d: %w", seq, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("retry outbox event %d: %w", seq, err)
	}
	return n == 1, nil
}
