package activities

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// FrequencyCap limits how many sends of a purpose reach one contact on a
// channel, across every journey: at most Limit.Sends within any rolling
// Limit.Window.
type FrequencyCap struct {
	Purpose journeys.Purpose
	// Channel is the channel capped; empty caps every channel that has no
	// cap of its own, each channel counted apart.
	Channel channels.Channel
	Limit   store.CapLimit
}

// FrequencyCaps are the caps in force. A purpose without a cap (by
// default authentication and utility) is not capped.
type FrequencyCaps []FrequencyCap

// For returns the cap of a purpose's sends on ch: the cap naming ch, else
// the purpose's cap of every channel.
func (cs FrequencyCaps) For(p journeys.Purpose, ch channels.Channel) (store.CapLimit, bool) {
	var any *FrequencyCap
	for i, c := range cs {
		switch {
		case c.Purpose != p:
		case c.Channel == ch:
			return c.Limit, true
		case c.Channel == "":
			any = &cs[i]
		}
	}
	if any == nil {
		return store.CapLimit{}, false
	}
	return any.Limit, true
}

// ReasonFrequencyCappedPrefix starts the reason of a capped attempt,
// followed by the cap, e.g. "frequency capped: 2 marketing sends on
// whatsapp within 7d".
const ReasonFrequencyCappedPrefix = "frequency capped: "

// reserveSend takes one of the sends that req's cap allows, if it has
// one. The reservation is the journey's attempt (its workflow id and
// attempt number), so a retried check takes no second send.
func (a *Activities) reserveSend(ctx context.Context, key string, req EligibilityRequest) (Eligibility, bool, error) {
	limit, ok := a.Caps.For(req.Purpose, req.Channel)
	if !ok {
		return Eligibility{}, true, nil
	}
	id := req.WorkflowID + "/" + strconv.Itoa(req.Attempt)
	ck := store.CapKey{ContactKey: key, Channel: req.Channel, Purpose: string(req.Purpose)}
	ok, err := a.Messages.ReserveSend(ctx, ck, limit, id, a.now())
	if err != nil || ok {
		return Eligibility{}, ok, err
	}
	return Capped(req.Purpose, req.Channel, limit), false, nil
}

// Capped returns the eligibility of an attempt that the cap limit of
// purpose p on ch leaves no send: a skip of class
// store.ClassFrequencyCapped.
func Capped(p journeys.Purpose, ch channels.Channel, limit store.CapLimit) Eligibility {
	reason := fmt.Sprintf("%s%d %s sends on %s within %s", ReasonFrequencyCappedPrefix, limit.Sends, p, ch, window(limit.Window))
	return Eligibility{Reason: reason, Class: store.ClassFrequencyCapped}
}

// window writes d in days ("7d") when it is whole days.
func window(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
