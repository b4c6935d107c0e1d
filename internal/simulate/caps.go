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
			return nil, fmt.Errorf("sent recently %q: want channel=count with channel %s", part, names(reg))
		}
		out[c] = sent
	}
	return out, nil
}

// names lists reg's channels, for an error.
func names(reg *channels.Registry) string {
	var ns []string
	for _, ch := range reg.Channels("") {
		ns = append(ns, string(ch))
	}
	return strings.Join(ns, ", ")
}

// capCounter plays the store's frequency caps in a simulation: the sends
// of SentRecently count as within every cap's window for the whole run.
type capCounter struct {
	caps  activities.FrequencyCaps
	mu    sync.Mutex
	sent  map[channels.Channel]int
	taken map[int]bool // attempts that took a send
}

func newCapCounter(caps activities.FrequencyCaps, recent map[channels.Channel]int) *capCounter {
	c := &capCounter{caps: caps, sent: map[channels.Channel]int{}, taken: map[int]bool{}}
	for ch, n := range recent {
		c.sent[ch] = n
	}
	return c
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
	return activities.Eligibility{Allowed: true}, nil
}
