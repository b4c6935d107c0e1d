package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// memberBatch is how many segment members one INSERT writes.
const memberBatch = 500

// SaveSegment replaces the segment and its members in one transaction.
func (s *Store) SaveSegment(ctx context.Context, seg store.Segment, members []string) error {
	if err := seg.Validate(); err != nil {
		return fmt.Errorf("save segment: %w", err)
	}
	if seg.Kind == store.SegmentFilter && len(members) > 0 {
		return fmt.Errorf("save segment %s: a filter segment has no members", seg.Name)
	}
	if err := s.saveSegment(ctx, seg, members); err != nil {
		return fmt.Errorf("save segment %s: %w", seg.Name, err)
	}
	return nil
}

func (s *Store) saveSegment(ctx context.Context, seg store.Segment, members []string) error {
	filter, err := json.Marshal(seg.Filter)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, s.rebind(
		`INSERT INTO segments (name, kind, filter, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, filter = excluded.filter, created_at = excluded.created_at`),
		seg.Name, string(seg.Kind), string(filter), ts(seg.CreatedAt)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM segment_members WHERE segment = ?`), seg.Name); err != nil {
		return err
	}
	for len(members) > 0 {
		n := min(len(members), memberBatch)
		args := make([]any, 0, 2*n)
		for _, key := range members[:n] {
			args = append(args, seg.Name, key)
		}
		values := strings.Repeat("(?, ?), ", n-1) + "(?, ?)"
		if _, err := tx.ExecContext(ctx, s.rebind(
			`INSERT INTO segment_members (segment, contact_key) VALUES `+values+` ON CONFLICT DO NOTHING`), args...); err != nil {
			return err
		}
		members = members[n:]
	}
	return tx.Commit()
}

func scanSegment(row interface{ Scan(...any) error }) (store.Segment, error) {
	var seg store.Segment
	var filter string
	if err := row.Scan(&seg.Name, &seg.Kind, &filter, timeCol{&seg.CreatedAt}); err != nil {
		return seg, err
	}
	if err := json.Unmarshal([]byte(filter), &seg.Filter); err != nil {
		return seg, fmt.Errorf("segment %s: filter: %w", seg.Name, err)
	}
	return seg, nil
}

// Segment returns the segment of the name.
func (s *Store) Segment(ctx context.Context, name string) (store.Segment, error) {
	seg, err := scanSegment(s.queryRow(ctx, `SELECT name, kind, filter, created_at FROM segments WHERE name = ?`, name))
	if err != nil {
		return store.Segment{}, notFound(err, "segment "+name)
	}
	return seg, nil
}

// Segments returns every segment, by name.
func (s *Store) Segments(ctx context.Context) ([]store.Segment, error) {
	rows, err := s.query(ctx, `SELECT name, kind, filter, created_at FROM segments ORDER BY name`)
	return collect(rows, err, scanSegment, "segments")
}

// SegmentSize counts the segment's contacts at time at.
func (s *Store) SegmentSize(ctx context.Context, name string, at time.Time) (int, error) {
	seg, err := s.Segment(ctx, name)
	if err != nil {
		return 0, err
	}
	from, where, args := segmentQuery(seg, at)
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment %s: %w", name, err)
	}
	return n, nil
}

// SegmentMembers returns a page of the segment's contacts at time at.
func (s *Store) SegmentMembers(ctx context.Context, name string, at time.Time, after string, limit int) ([]store.Contact, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("segment %s members: limit %d: want 1 or more", name, limit)
	}
	seg, err := s.Segment(ctx, name)
	if err != nil {
		return nil, err
	}
	from, where, args := segmentQuery(seg, at)
	rows, err := s.query(ctx,
		`SELECT c.contact_key, c.number, c.email, c.locale, c.time_zone FROM `+from+
			` WHERE `+where+` AND c.contact_key > ? ORDER BY c.contact_key LIMIT ?`,
		append(args, after, limit)...)
	cs, err := collect(rows, err, scanContact, "segment "+name+" members")
	if err != nil {
		return nil, err
	}
	return s.withTags(ctx, cs)
}

// segmentQuery returns the FROM and WHERE clauses, and their arguments,
// of the segment's contacts (alias c) at time at. Consent is the latest
// entry per contact, channel and purpose, found through the consents
// index; inbound is the inbound table's row per contact and channel.
func segmentQuery(seg store.Segment, at time.Time) (from, where string, args []any) {
	from = `contacts c`
	conds := []string{"1 = 1"}
	if seg.Kind == store.SegmentList {
		from = `segment_members m JOIN contacts c ON c.contact_key = m.contact_key`
		conds = append(conds, `m.segment = ?`)
		args = append(args, seg.Name)
	}
	f := seg.Filter
	if f.Locale != "" {
		conds = append(conds, `c.locale = ?`)
		args = append(args, f.Locale)
	}
	if f.TimeZone != "" {
		conds = append(conds, `c.time_zone = ?`)
		args = append(args, f.TimeZone)
	}
	for _, tag := range f.Tags {
		conds = append(conds, `EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_key = c.contact_key AND t.tag = ?)`)
		args = append(args, tag)
	}
	if c := f.Consent; c != nil {
		conds = append(conds, `(SELECT k.granted FROM consents k
			WHERE k.contact_key = c.contact_key AND k.channel = ? AND k.purpose = ?
			ORDER BY k.at DESC, k.id DESC LIMIT 1) = ?`)
		args = append(args, string(c.Channel), c.Purpose, true)
	}
	if in := f.Inbound; in != nil {
		conds = append(conds, `EXISTS (SELECT 1 FROM inbound i
			WHERE i.contact_key = c.contact_key AND i.channel = ? AND i.last_at >= ?)`)
		args = append(args, string(in.Channel), ts(at.Add(-in.Within)))
	}
	return from, strings.Join(conds, " AND "), args
}
