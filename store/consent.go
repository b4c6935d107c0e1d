package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchbackhq/switchback/channels"
)

// ConsentChange says what ApplyConsent did with a consent entry.
type ConsentChange int

// What ApplyConsent did.
const (
	// ConsentRecorded: the entry is recorded, and in force.
	ConsentRecorded ConsentChange = iota
	// ConsentUnchanged: the consent in force already had the entry's
	// state, no later than the entry; nothing was recorded.
	ConsentUnchanged
	// ConsentSuperseded: a later entry is in force; the older one, which
	// arrived late, changes nothing and was not recorded.
	ConsentSuperseded
)

// ConsentRecorder is the part of Store that ApplyConsent and ChangeConsent
// use.
type ConsentRecorder interface {
	LatestConsent(ctx context.Context, contactKey string, ch channels.Channel, purpose string) (Consent, error)
	RecordConsent(ctx context.Context, c Consent) error
}

// ApplyConsent records c if it changes the consent in force for its
// contact, channel and purpose, in the order of the entries' times: an
// entry older than the one in force (a late or replayed message) is
// superseded, and one with the state in force (a webhook retried, an
// import run twice) adds nothing to the history.
func ApplyConsent(ctx context.Context, s ConsentRecorder, c Consent) (ConsentChange, error) {
	latest, err := s.LatestConsent(ctx, c.ContactKey, c.Channel, c.Purpose)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("change consent: %w", err)
	case latest.At.After(c.At):
		return ConsentSuperseded, nil
	case latest.Granted == c.Granted:
		return ConsentUnchanged, nil
	}
	if err := s.RecordConsent(ctx, c); err != nil {
		return 0, fmt.Errorf("change consent: %w", err)
	}
	return ConsentRecorded, nil
}

// ChangeConsent is ApplyConsent reporting only whether c was recorded.
func ChangeConsent(ctx context.Context, s ConsentRecorder, c Consent) (bool, error) {
	change, err := ApplyConsent(ctx, s, c)
	return change == ConsentRecorded, err
}
