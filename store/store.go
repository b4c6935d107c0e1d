// Package store keeps what Switchback must remember outside Temporal. So
// far: which journey sent which provider message, so that a status callback
// without its correlation data still finds its journey.
package store

import (
	"context"
	"errors"

	"github.com/switchbackhq/switchback/channels"
)

// ErrNotFound is returned when the store has no record of what was asked.
var ErrNotFound = errors.New("not found")

// MessageRef ties a provider's message id to the journey attempt that sent it.
type MessageRef struct {
	Provider   string
	MessageID  string
	WorkflowID string
	Attempt    int
	Channel    channels.Channel
}

// Store is what Switchback keeps. Implementations are safe for concurrent use.
type Store interface {
	// RecordMessage remembers ref; recording the same message again is not an error.
	RecordMessage(ctx context.Context, ref MessageRef) error
	// LookupMessage finds the journey attempt that sent a provider's message,
	// or returns ErrNotFound.
	LookupMessage(ctx context.Context, provider, messageID string) (MessageRef, error)
	// Close releases the store.
	Close() error
}
