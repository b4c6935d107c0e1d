package simulate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
)

// ParseSentRecently parses "whatsapp=2,sms=1": how many messages of the
// journey's purpose the contact got on each channel within its caps'
// windows before the journey starts.
func ParseSentRecently(s string, reg *channels.Registry) (map[channels.Channel]int, error) {
	out := map[channels.Channel]int{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		ch, n, ok := strings.Cut(part, "=")
		c := channels.Channel(ch)
		sent, err := strconv.Atoi(n)
		if _, known := reg.Lookup(c); !ok || !known || err != nil || sent < 0 {
			return nil, fmt.Errorf("sent recently %q: want channel=count with channel %s", part, reg.String())
		}
		out[c] = sent
	}
	return out, nil
}

// capCounter plays the store's frequency caps and messaging limit in a
// simulation: the sends of SentRecently count as within every cap's
// window, and the recipients of SentToday within the limit's 24 hours,
// for the whole run.
type capCounter struct {
	caps  activities.FrequencyCaps
	mu    sync.Mutex
	sent  map[channels.Channel]int
	taken map[int]bool // attempts that took a send
	// tier is the messaging limit, if capped; today the recipients
	// counted in its window; counted whether the contact is one of them.
	tier    int
	capped  bool
	today   int
	counted bool
}

func newCapCounter(opts Options) (*capCounter, error) {
	c := &capCounter{caps: opts.Caps, sent: map[channels.Channel]int{}, taken: map[int]bool{}, today: opts.SentToday}
	for ch, n := range opts.SentRecently {
		c.sent[ch] = n
	}
	var err error
	if c.tier, c.capped, err = activities.TierLimit(opts.Tier); err != nil {
		return nil, err
	}
	return c, nil
}

// check is the simulation's eligibility: every attempt is eligible unless
// its cap has no send left.
func (c *capCounter) check(_ context.Context, req activities.EligibilityRequest) (activities.Eligibility, error) {
	limit, ok := c.caps.For(req.Purpose, req.Channel)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !ok || c.taken[req.Attempt]:
	case c.sent[req.Channel] >= limit.Sends:
		return activities.Capped(req.Purpose, req.Channel, limit), nil
	default:
		c.sent[req.Channel]++
		c.taken[req.Attempt] = true
	}
	// A template counts its recipient against the messaging limit once.
	if c.capped && req.Channel == channels.WhatsApp && !req.Session && !c.counted {
		if c.today >= c.tier {
			return activities.TierLimited(c.tier), nil
		}
		c.today++
		c.counted = true
	}
	return activities.Eligibility{Allowed: true}, nil
}
