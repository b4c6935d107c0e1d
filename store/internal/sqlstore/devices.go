package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// AddDeviceTokens adds tokens to the contact's in one transaction.
func (s *Store) AddDeviceTokens(ctx context.Context, contactKey string, tokens []string, at time.Time) error {
	if err := store.CheckDeviceTokens(contactKey, tokens); err != nil {
		return fmt.Errorf("add device tokens: %w", err)
	}
	if err := s.addDeviceTokens(ctx, contactKey, tokens, at); err != nil {
		return fmt.Errorf("add device tokens of %s: %w", contactKey, err)
	}
	return nil
}

func (s *Store) addDeviceTokens(ctx context.Context, contactKey string, tokens []string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	for _, t := range tokens {
		if _, err := tx.ExecContext(ctx, s.rebind(
			`INSERT INTO device_tokens (contact_key, token, added_at) VALUES (?, ?, ?)
			 ON CONFLICT (contact_key, token) DO UPDATE SET added_at = excluded.added_at`),
			contactKey, t, ts(at)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeviceTokens returns the contact's tokens, the latest added first.
func (s *Store) DeviceTokens(ctx context.Context, contactKey string) ([]store.DeviceToken, error) {
	rows, err := s.query(ctx,
		`SELECT token, added_at FROM device_tokens WHERE contact_key = ? ORDER BY added_at DESC, token`, contactKey)
	if err != nil {
		return nil, fmt.Errorf("read device tokens of %s: %w", contactKey, err)
	}
	defer rows.Close()
	var out []store.DeviceToken
	for rows.Next() {
		var d store.DeviceToken
		if err := rows.Scan(&d.Token, timeCol{&d.AddedAt}); err != nil {
			return nil, fmt.Errorf("read device tokens of %s: %w", contactKey, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read device tokens of %s: %w", contactKey, err)
	}
	return out, nil
}

// RetireDeviceTokens deletes the tokens from every contact, in one
// statement.
func (s *Store) RetireDeviceTokens(ctx context.Context, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	args := make([]any, len(tokens))
	for i, t := range tokens {
		args[i] = t
	}
	if _, err := s.exec(ctx, `DELETE FROM device_tokens WHERE token IN (?`+strings.Repeat(", ?", len(tokens)-1)+`)`, args...); err != nil {
		// The error names no token: a token is an address.
		return fmt.Errorf("retire %d device tokens: %w", len(tokens), err)
	}
	return nil
}
