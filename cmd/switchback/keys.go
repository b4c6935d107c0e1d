package main

import (
	"context"
	"fmt"
	"time"

	"github.com/switchbackhq/switchback/internal/keys"
)

// runKeys prints a new pair of keys as environment lines, for `worker`
// and `serve` (which refuse to start without them) and every client of
// the same journeys.
func runKeys(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys", "keys   (prints SWITCHBACK_ENCRYPTION_KEY=... and SWITCHBACK_CONTACT_KEY=... lines)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	p, err := keys.New(time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `# Give every worker, serve and client of the same journeys these values,
# from a secret store. Keep old encryption keys after the new one
# (SWITCHBACK_ENCRYPTION_KEY=new:...,old:...) while histories need them.
SWITCHBACK_ENCRYPTION_KEY=%s
SWITCHBACK_CONTACT_KEY=%s
`, p.Encryption, p.Contact)
	return nil
}
