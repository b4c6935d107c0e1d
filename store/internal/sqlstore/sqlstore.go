// Package sqlstore implements store.Store over database/sql for the
// drivers store/sqlite and store/postgres. The drivers differ in how they
// open the database, in their migrations and in their placeholders; the
// queries are the same, written with ? placeholders.
//
// Times are passed to the database as fixed-width RFC 3339 text in UTC
// with microseconds, which SQLite compares as text in time order and
// PostgreSQL reads into TIMESTAMPTZ columns.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/store"
)

// Dialect is what a driver tells the shared implementation.
type Dialect struct {
	// Goose is the migration dialect.
	Goose goose.Dialect
	// Numbered selects $1, $2, ... placeholders instead of ?.
	Numbered bool
	// Bytewise is the clause that makes a text comparison bytewise, as
	// the indexes of prefix searches are ordered (` COLLATE "C"` for
	// PostgreSQL); empty where comparisons are bytewise already (SQLite).
	Bytewise string
}

// Store is a store.Store on a *sql.DB. The drivers embed it.
type Store struct {
	db      *sql.DB
	dialect Dialect
	opts    store.Options
}

// Open applies the goose SQL migrations under the migrations directory of
// fsys to db, up to the latest, and returns a Store on db configured by so.
// On an error it closes db.
func Open(ctx context.Context, db *sql.DB, d Dialect, so store.Options, fsys fs.FS, opts ...goose.ProviderOption) (*Store, error) {
	if err := migrate(ctx, db, d, fsys, opts); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, dialect: d, opts: so}, nil
}

func migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, opts []goose.ProviderOption) error {
	sub, err := fs.Sub(fsys, "migrations")
	if err != nil {
		return fmt.Errorf("store migrations: %w", err)
	}
	opts = append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)
	p, err := goose.NewProvider(d.Goose, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("prepare store migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate store schema: %w", err)
	}
	return nil
}

// DB returns the database.
func (s *Store) DB() *sql.DB { return s.db }

// Ping runs the cheapest query there is, on a connection of the pool.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// rebind rewrites ? placeholders for the dialect.
func (s *Store) rebind(q string) string {
	if !s.dialect.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.rebind(q), args...)
}

// timeLayout is fixed-width so that text comparisons follow time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts encodes t for a query.
func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// timeCol scans a time stored as text (SQLite) or as a timestamp (PostgreSQL).
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	}
	return fmt.Errorf("scan time: unsupported type %T", src)
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*c.t = t.UTC()
	return nil
}

// notFound wraps store.ErrNotFound for a missing row, and err otherwise.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// RecordMessage remembers ref. A second record of the same provider message
// keeps the first.
func (s *Store) RecordMessage(ctx context.Context, ref store.MessageRef) error {
	_, err := s.exec(ctx,
		`INSERT INTO message_refs (provider, message_id, workflow_id, attempt, channel, journey, step, template, contact_key, await)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, message_id) DO NOTHING`,
		ref.Provider, ref.MessageID, ref.WorkflowID, ref.Attempt, string(ref.Channel),
		ref.Journey, ref.Step, ref.Template, ref.ContactKey, string(ref.Await))
	if err != nil {
		return fmt.Errorf("record %s message %s: %w", ref.Provider, ref.MessageID, err)
	}
	return nil
}

// LookupMessage finds the journey attempt that sent a provider's message.
func (s *Store) LookupMessage(ctx context.Context, provider, messageID string) (store.MessageRef, error) {
	ref := store.MessageRef{Provider: provider, MessageID: messageID}
	var awaited int
	err := s.queryRow(ctx,
		`SELECT workflow_id, attempt, channel, journey, step, template, contact_key, await, awaited
		 FROM message_refs WHERE provider = ? AND message_id = ?`,
		provider, messageID).Scan(&ref.WorkflowID, &ref.Attempt, &ref.Channel,
		&ref.Journey, &ref.Step, &ref.Template, &ref.ContactKey, &ref.Await, &awaited)
	if err != nil {
		return store.MessageRef{}, notFound(err, fmt.Sprintf("look up %s message %s", provider, messageID))
	}
	ref.Awaited = awaited != 0
	return ref, nil
}

// MarkAwaited notes that a status reaching the message's Await went to its
// journey.
func (s *Store) MarkAwaited(ctx context.Context, provider, messageID string) error {
	if _, err := s.exec(ctx, `UPDATE message_refs SET awaited = 1 WHERE provider = ? AND message_id = ?`, provider, messageID); err != nil {
		return fmt.Errorf("mark %s message %s awaited: %w", provider, messageID, err)
	}
	return nil
}

// UpsertContact creates or updates a contact and adds its tags, in one
// transaction; empty fields keep what is stored.
func (s *Store) UpsertContact(ctx context.Context, c store.Contact) error {
	if err := store.CheckContact(c); err != nil {
		return fmt.Errorf("upsert contact: %w", err)
	}
	if err := s.upsertContact(ctx, c); err != nil {
		return fmt.Errorf("upsert contact %s: %w", c.Key, err)
	}
	return nil
}

func (s *Store) upsertContact(ctx context.Context, c store.Contact) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, s.rebind(
		`INSERT INTO contacts (contact_key, number, email, locale, time_zone) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (contact_key) DO UPDATE SET
		   number    = COALESCE(NULLIF(excluded.number, ''), contacts.number),
		   email     = COALESCE(NULLIF(excluded.email, ''), contacts.email),
		   locale    = COALESCE(NULLIF(excluded.locale, ''), contacts.locale),
		   time_zone = COALESCE(NULLIF(excluded.time_zone, ''), contacts.time_zone)`),
		c.Key, c.Number, store.NormalEmail(c.Email), c.Locale, c.TimeZone); err != nil {
		return err
	}
	for _, tag := range c.Tags {
		if _, err := tx.ExecContext(ctx, s.rebind(
			`INSERT INTO contact_tags (contact_key, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`), c.Key, tag); err != nil {
			return err
		}
	}
	return tx.Commit()
}

const contactColumns = `contact_key, number, email, locale, time_zone`

func scanContact(row interface{ Scan(...any) error }) (store.Contact, error) {
	var c store.Contact
	err := row.Scan(&c.Key, &c.Number, &c.Email, &c.Locale, &c.TimeZone)
	return c, err
}

// withTags fills in the tags of the contacts cs, with one query.
func (s *Store) withTags(ctx context.Context, cs []store.Contact) ([]store.Contact, error) {
	if len(cs) == 0 {
		return cs, nil
	}
	at := make(map[string]int, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		at[c.Key] = i
		args[i] = c.Key
	}
	rows, err := s.query(ctx, `SELECT contact_key, tag FROM contact_tags WHERE contact_key IN (?`+
		strings.Repeat(", ?", len(cs)-1)+`) ORDER BY contact_key, tag`, args...)
	if err != nil {
		return nil, fmt.Errorf("read contact tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, tag string
		if err := rows.Scan(&key, &tag); err != nil {
			return nil, fmt.Errorf("read contact tags: %w", err)
		}
		cs[at[key]].Tags = append(cs[at[key]].Tags, tag)
	}
	return cs, rows.Err()
}

// oneContact reads the contact a query selects, with its tags.
func (s *Store) oneContact(ctx context.Context, what, q string, args ...any) (store.Contact, error) {
	c, err := scanContact(s.queryRow(ctx, q, args...))
	if err != nil {
		return store.Contact{}, notFound(err, what)
	}
	cs, err := s.withTags(ctx, []store.Contact{c})
	if err != nil {
		return store.Contact{}, fmt.Errorf("%s: %w", what, err)
	}
	return cs[0], nil
}

// Contact returns the contact with the key.
func (s *Store) Contact(ctx context.Context, key string) (store.Contact, error) {
	return s.oneContact(ctx, "contact "+key, `SELECT `+contactColumns+` FROM contacts WHERE contact_key = ?`, key)
}

// ContactByEmail returns the first contact with the email address.
func (s *Store) ContactByEmail(ctx context.Context, email string) (store.Contact, error) {
	return s.oneContact(ctx, "contact with email",
		`SELECT `+contactColumns+` FROM contacts WHERE email = ? ORDER BY contact_key LIMIT 1`, store.NormalEmail(email))
}

// RecordConsent appends c to the consent history.
func (s *Store) RecordConsent(ctx context.Context, c store.Consent) error {
	_, err := s.exec(ctx,
		`INSERT INTO consents (contact_key, channel, purpose, granted, source, at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ContactKey, string(c.Channel), c.Purpose, c.Granted, c.Source, ts(c.At))
	if err != nil {
		return fmt.Errorf("record %s %s consent of %s: %w", c.Channel, c.Purpose, c.ContactKey, err)
	}
	return nil
}

const consentColumns = `contact_key, channel, purpose, granted, source, at`

func scanConsent(row interface{ Scan(...any) error }) (store.Consent, error) {
	var c store.Consent
	err := row.Scan(&c.ContactKey, &c.Channel, &c.Purpose, &c.Granted, &c.Source, timeCol{&c.At})
	return c, err
}

// LatestConsent returns the consent in force.
func (s *Store) LatestConsent(ctx context.Context, contactKey string, ch channels.Channel, purpose string) (store.Consent, error) {
	c, err := scanConsent(s.queryRow(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE contact_key = ? AND channel = ? AND purpose = ?
		 ORDER BY at DESC, id DESC LIMIT 1`, contactKey, string(ch), purpose))
	if err != nil {
		return store.Consent{}, notFound(err, fmt.Sprintf("%s %s consent of %s", ch, purpose, contactKey))
	}
	return c, nil
}

// ConsentHistory returns a contact's consent entries, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, contactKey string) ([]store.Consent, error) {
	rows, err := s.query(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE contact_key = ? ORDER BY at, id`, contactKey)
	return collect(rows, err, scanConsent, "consent history of "+contactKey)
}

// Suppress suppresses a contact on a channel for a reason.
func (s *Store) Suppress(ctx context.Context, sp store.Suppression) error {
	_, err := s.exec(ctx,
		`INSERT INTO suppressions (contact_key, channel, reason, source, at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (contact_key, channel, reason) DO UPDATE SET source = excluded.source, at = excluded.at`,
		sp.ContactKey, string(sp.Channel), string(sp.Reason), sp.Source, ts(sp.At))
	if err != nil {
		return fmt.Errorf("suppress %s on %s: %w", sp.ContactKey, sp.Channel, err)
	}
	return nil
}

// Unsuppress lifts one suppression.
func (s *Store) Unsuppress(ctx context.Context, contactKey string, ch channels.Channel, reason store.SuppressionReason) error {
	_, err := s.exec(ctx, `DELETE FROM suppressions WHERE contact_key = ? AND channel = ? AND reason = ?`,
		contactKey, string(ch), string(reason))
	if err != nil {
		return fmt.Errorf("lift %s suppression of %s on %s: %w", reason, contactKey, ch, err)
	}
	return nil
}

// Suppressions returns a contact's suppressions.
func (s *Store) Suppressions(ctx context.Context, contactKey string) ([]store.Suppression, error) {
	rows, err := s.query(ctx,
		`SELECT contact_key, channel, reason, source, at FROM suppressions WHERE contact_key = ? ORDER BY channel, at, reason`,
		contactKey)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (store.Suppression, error) {
		var sp store.Suppression
		err := r.Scan(&sp.ContactKey, &sp.Channel, &sp.Reason, &sp.Source, timeCol{&sp.At})
		return sp, err
	}, "suppressions of "+contactKey)
}

// SetReachability records the latest outcome on a channel.
func (s *Store) SetReachability(ctx context.Context, r store.Reachability) error {
	_, err := s.exec(ctx,
		`INSERT INTO reachability (contact_key, channel, reachable, code, reason, at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (contact_key, channel) DO UPDATE SET
		   reachable = excluded.reachable, code = excluded.code, reason = excluded.reason, at = excluded.at
		 WHERE excluded.at >= reachability.at`,
		r.ContactKey, string(r.Channel), r.Reachable, r.Code, r.Reason, ts(r.At))
	if err != nil {
		return fmt.Errorf("set reachability of %s on %s: %w", r.ContactKey, r.Channel, err)
	}
	return nil
}

// Reachabilities returns what is known of a contact's channels.
func (s *Store) Reachabilities(ctx context.Context, contactKey string) ([]store.Reachability, error) {
	rows, err := s.query(ctx,
		`SELECT contact_key, channel, reachable, code, reason, at FROM reachability WHERE contact_key = ? ORDER BY channel`,
		contactKey)
	return collect(rows, err, func(row interface{ Scan(...any) error }) (store.Reachability, error) {
		var r store.Reachability
		err := row.Scan(&r.ContactKey, &r.Channel, &r.Reachable, &r.Code, &r.Reason, timeCol{&r.At})
		return r, err
	}, "reachability of "+contactKey)
}

// RecordInbound records the time a contact wrote on a channel.
func (s *Store) RecordInbound(ctx context.Context, contactKey string, ch channels.Channel, at time.Time) error {
	_, err := s.exec(ctx,
		`INSERT INTO inbound (contact_key, channel, last_at) VALUES (?, ?, ?)
		 ON CONFLICT (contact_key, channel) DO UPDATE SET last_at = excluded.last_at
		 WHERE excluded.last_at > inbound.last_at`,
		contactKey, string(ch), ts(at))
	if err != nil {
		return fmt.Errorf("record inbound of %s on %s: %w", contactKey, ch, err)
	}
	return nil
}

// LastInbound returns when a contact last wrote on a channel.
func (s *Store) LastInbound(ctx context.Context, contactKey string, ch channels.Channel) (time.Time, error) {
	var at time.Time
	err := s.queryRow(ctx, `SELECT last_at FROM inbound WHERE contact_key = ? AND channel = ?`,
		contactKey, string(ch)).Scan(timeCol{&at})
	if err != nil {
		return time.Time{}, notFound(err, fmt.Sprintf("last inbound of %s on %s", contactKey, ch))
	}
	return at, nil
}

// ClaimInbound records an inbound message unless it is recorded, and
// returns its record.
func (s *Store) ClaimInbound(ctx context.Context, provider, messageID string, at time.Time) (store.InboundClaim, error) {
	what := fmt.Sprintf("claim inbound %s message %s", provider, messageID)
	if _, err := s.exec(ctx,
		`INSERT INTO inbound_messages (provider, message_id, at) VALUES (?, ?, ?)
		 ON CONFLICT (provider, message_id) DO NOTHING`,
		provider, messageID, ts(at)); err != nil {
		return store.InboundClaim{}, fmt.Errorf("%s: %w", what, err)
	}
	var c store.InboundClaim
	err := s.queryRow(ctx, `SELECT at, done FROM inbound_messages WHERE provider = ? AND message_id = ?`,
		provider, messageID).Scan(timeCol{&c.At}, &c.Done)
	if err != nil {
		return store.InboundClaim{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// CompleteInbound marks a claimed inbound message done.
func (s *Store) CompleteInbound(ctx context.Context, provider, messageID string) error {
	_, err := s.exec(ctx, `UPDATE inbound_messages SET done = ? WHERE provider = ? AND message_id = ?`,
		true, provider, messageID)
	if err != nil {
		return fmt.Errorf("complete inbound %s message %s: %w", provider, messageID, err)
	}
	return nil
}

// MessageContact returns the contact key of a message's events.
func (s *Store) MessageContact(ctx context.Context, provider, messageID string) (string, error) {
	var key string
	err := s.queryRow(ctx,
		`SELECT contact_key FROM message_events WHERE provider = ? AND message_id = ? AND contact_key <> ''
		 ORDER BY id LIMIT 1`, provider, messageID).Scan(&key)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("contact of %s message %s", provider, messageID))
	}
	return key, nil
}

// KnownContact reports whether the key has a contact record or a message event.
func (s *Store) KnownContact(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, nil // events without a contact have the empty key
	}
	var known bool
	err := s.queryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM contacts WHERE contact_key = ?)
		     OR EXISTS (SELECT 1 FROM message_events WHERE contact_key = ?)`, key, key).Scan(&known)
	if err != nil {
		return false, fmt.Errorf("look up contact %s: %w", key, err)
	}
	return known, nil
}

const eventColumns = `provider, message_id, status, journey, workflow_id, step, attempt, channel, template,
	contact_key, error_code, error_reason, reason_class, pricing_category, at`

// RecordEvent appends e unless an event with its provider, message id and
// status is already recorded; with Options.EventOutbox, a new event joins
// the outbox in the same transaction.
func (s *Store) RecordEvent(ctx context.Context, e store.MessageEvent) (bool, error) {
	added, err := s.recordEvent(ctx, e)
	if err != nil {
		return false, fmt.Errorf("record %s event of %s message %s: %w", e.Status, e.Provider, e.MessageID, err)
	}
	return added, nil
}

func (s *Store) recordEvent(ctx context.Context, e store.MessageEvent) (bool, error) {
	if !s.opts.EventOutbox {
		_, added, err := s.insertEvent(ctx, s.db, e)
		return added, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() // after Commit, a no-op
	seq, added, err := s.insertEvent(ctx, tx, e)
	if err != nil || !added {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO event_outbox (event_id, due_at) VALUES (?, ?)`),
		seq, ts(time.Now())); err != nil {
		return false, fmt.Errorf("add to the event outbox: %w", err)
	}
	return true, tx.Commit()
}

// insertEvent inserts e unless it is recorded, and returns its row's id.
func (s *Store) insertEvent(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, e store.MessageEvent) (seq int64, added bool, err error) {
	err = q.QueryRowContext(ctx, s.rebind(
		`INSERT INTO message_events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (provider, message_id, status) DO NOTHING RETURNING id`),
		e.Provider, e.MessageID, string(e.Status), e.Journey, e.WorkflowID, e.Step, e.Attempt, string(e.Channel),
		e.Template, e.ContactKey, e.ErrorCode, e.ErrorReason, string(e.ReasonClass), e.PricingCategory, ts(e.At)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil // recorded before
	}
	return seq, err == nil, err
}

// Events returns the events f selects, oldest first.
func (s *Store) Events(ctx context.Context, f store.EventFilter) ([]store.MessageEvent, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{
		{"journey", f.Journey}, {"workflow_id", f.WorkflowID}, {"contact_key", f.ContactKey},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ts(f.Since))
	}
	q := `SELECT ` + eventColumns + ` FROM message_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY at DESC, id DESC`
	if f.Newest > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Newest)
	}
	rows, err := s.query(ctx, q, args...)
	events, err := collect(rows, err, scanEvent, "message events")
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	return events, err
}

// scanEvent scans the eventColumns of a row.
func scanEvent(r interface{ Scan(...any) error }) (store.MessageEvent, error) {
	var e store.MessageEvent
	err := r.Scan(&e.Provider, &e.MessageID, &e.Status, &e.Journey, &e.WorkflowID, &e.Step, &e.Attempt, &e.Channel,
		&e.Template, &e.ContactKey, &e.ErrorCode, &e.ErrorReason, &e.ReasonClass, &e.PricingCategory, timeCol{&e.At})
	return e, err
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error), what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

const templateColumns = `name, language, category, status, rejected_reason, data, waba_id, synced_at`

// ReplaceTemplates makes ts the whole template registry, in one transaction.
func (s *Store) ReplaceTemplates(ctx context.Context, wabaID string, templates []store.Template, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace templates: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, `DELETE FROM templates`); err != nil {
		return fmt.Errorf("replace templates: %w", err)
	}
	ins := s.rebind(`INSERT INTO templates (` + templateColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	for _, t := range templates {
		data := string(t.Data)
		if data == "" {
			data = "{}"
		}
		if _, err := tx.ExecContext(ctx, ins, t.Name, t.Language, t.Category, t.Status, t.RejectedReason, data, wabaID, ts(at)); err != nil {
			return fmt.Errorf("replace templates: template %s (%s): %w", t.Name, t.Language, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace templates: %w", err)
	}
	return nil
}

// ListTemplates returns every template, by name then language.
func (s *Store) ListTemplates(ctx context.Context) ([]store.Template, error) {
	rows, err := s.query(ctx, `SELECT `+templateColumns+` FROM templates ORDER BY name, language`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (store.Template, error) {
		var t store.Template
		var data string
		err := r.Scan(&t.Name, &t.Language, &t.Category, &t.Status, &t.RejectedReason, &data, &t.WABAID, timeCol{&t.SyncedAt})
		t.Data = []byte(data)
		return t, err
	}, "templates")
}

// SetTemplateStatus updates one template's status.
func (s *Store) SetTemplateStatus(ctx context.Context, name, language string, st store.TemplateStatus) error {
	res, err := s.exec(ctx,
		`UPDATE templates SET status = ?, category = CASE WHEN ? = '' THEN category ELSE ? END, rejected_reason = ?
		 WHERE name = ? AND language = ?`,
		st.Status, st.Category, st.Category, st.RejectedReason, name, language)
	if err != nil {
		return fmt.Errorf("set status of template %s (%s): %w", name, language, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("set status of template %s (%s): %w", name, language, err)
	}
	if n == 0 {
		return fmt.Errorf("template %s (%s): %w", name, language, store.ErrNotFound)
	}
	return nil
}
