package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// BroadcastCheckName is the registered name of the activity a broadcast
// runs between batches: its quality guard and its messaging-limit room.
const BroadcastCheckName = "BroadcastCheck"

// Quality guard defaults: the newest 200 WhatsApp sends of a broadcast,
// paused when more than 10% of them failed with 131049 or 131026, once at
// least 20 sends are known.
const (
	DefaultGuardSends       = 200
	DefaultGuardFailureRate = 0.10
	guardMinSends           = 20
)

// GuardCodes are the WhatsApp error codes whose surge pauses a broadcast:
// Meta's per-user marketing limit (131049) and undeliverable (131026).
var GuardCodes = []string{"131049", "131026"}

// pausingCodes fail a send because its template is paused (132015) or
// disabled (132016): one is enough to pause.
var pausingCodes = []string{"132015", "132016"}

// QualityGuard configures when a broadcast pauses itself for its sends'
// failures.
type QualityGuard struct {
	// Sends is how many of the newest sends the failure rate looks at
	// (SWITCHBACK_GUARD_SENDS); zero: DefaultGuardSends.
	Sends int
	// FailureRate is the share of those sends, failed with one of
	// GuardCodes, above which the broadcast pauses
	// (SWITCHBACK_GUARD_FAILURE_RATE); zero: DefaultGuardFailureRate.
	FailureRate float64
}

func (g QualityGuard) sends() int {
	if g.Sends <= 0 {
		return DefaultGuardSends
	}
	return g.Sends
}

func (g QualityGuard) rate() float64 {
	if g.FailureRate <= 0 {
		return DefaultGuardFailureRate
	}
	return g.FailureRate
}

// CheckRequest asks whether a broadcast may start its next batch.
type CheckRequest struct {
	Broadcast string `json:"broadcast"`
	Journey   string `json:"journey"`
	// Since is when the guard's watch began: the broadcast's start, or
	// the last resume. Failures and quality drops before it do not count.
	Since time.Time `json:"since"`
	// Acked are the keys of the conditions a person resumed the broadcast
	// over (CheckResult.Key): they pause it no more.
	Acked []string `json:"acked,omitempty"`
}

// CheckResult is the answer to a CheckRequest.
type CheckResult struct {
	// Pause, when not empty, is the class of the condition that pauses
	// the broadcast; Reason says it for people, Key names it.
	Pause  store.ReasonClass `json:"pause,omitempty"`
	Reason string            `json:"reason,omitempty"`
	Key    string            `json:"key,omitempty"`
	// Capped says a messaging limit is in force, of Limit recipients;
	// Room is how many new recipients fit now, and FreeAt is when the
	// oldest one counted leaves the window (zero when none is counted).
	Capped bool      `json:"capped,omitempty"`
	Limit  int       `json:"limit,omitempty"`
	Room   int       `json:"room,omitempty"`
	FreeAt time.Time `json:"free_at"`
	// NextChannel: the journey's tier_limit is next_channel, so the
	// broadcast does not wait for room.
	NextChannel bool `json:"next_channel,omitempty"`
}

// GuardStore is the part of store.Store that the broadcast check reads and
// that counts a batch's recipients against the messaging limit.
type GuardStore interface {
	NumberStates(ctx context.Context) ([]store.NumberState, error)
	ListTemplates(ctx context.Context) ([]store.Template, error)
	RecentOutcomes(ctx context.Context, prefix string, ch channels.Channel, since time.Time, n int) (store.SendOutcomes, error)
	TierUsage(ctx context.Context, at time.Time) (store.TierUsage, error)
	ReserveRecipient(ctx context.Context, contactKey string, limit int, at time.Time) (bool, error)
}

// BroadcastCheck checks, in order, the number's state (FLAGGED, a quality
// downgrade or a RED rating since req.Since), the state of the journey's
// templates (PAUSED or DISABLED, or a 132015/132016 failure since
// req.Since) and the failure rate of the broadcast's newest WhatsApp sends
// since req.Since; the first condition not in req.Acked pauses the
// broadcast. Then, for a journey that starts on WhatsApp, it reports the
// messaging limit's room.
func (b *Broadcasts) BroadcastCheck(ctx context.Context, req CheckRequest) (CheckResult, error) {
	j, err := b.journey(req.Journey)
	if err != nil || b.Guard == nil {
		return CheckResult{}, err
	}
	res, err := b.guard(ctx, req, j)
	if err != nil {
		return CheckResult{}, fmt.Errorf("check broadcast %s: %w", req.Broadcast, err)
	}
	if res.Pause != "" || j.FirstChannel() != channels.WhatsApp {
		return res, nil
	}
	if err := b.room(ctx, &res); err != nil {
		return CheckResult{}, fmt.Errorf("check broadcast %s: %w", req.Broadcast, err)
	}
	res.NextChannel = j.TierLimit == journeys.TierLimitNextChannel
	return res, nil
}

// condition is a guard condition found: it pauses unless acknowledged.
type condition struct {
	class       store.ReasonClass
	key, reason string
}

// guard returns the first condition that pauses the broadcast, if any.
func (b *Broadcasts) guard(ctx context.Context, req CheckRequest, j journeys.Journey) (CheckResult, error) {
	var found []condition
	states, err := b.Guard.NumberStates(ctx)
	if err != nil {
		return CheckResult{}, err
	}
	found = append(found, numberConditions(states, req.Since)...)
	more, err := b.templateConditions(ctx, j)
	if err != nil {
		return CheckResult{}, err
	}
	found = append(found, more...)
	o, err := b.Guard.RecentOutcomes(ctx, JourneyID(req.Broadcast, ""), channels.WhatsApp, req.Since, b.Quality.sends())
	if err != nil {
		return CheckResult{}, err
	}
	found = append(found, b.failureConditions(o, req.Since)...)
	for _, c := range found {
		if !slices.Contains(req.Acked, c.key) {
			return CheckResult{Pause: c.class, Reason: c.reason, Key: c.key}, nil
		}
	}
	return CheckResult{}, nil
}

// numberConditions: a FLAGGED number, and a downgrade or a RED rating
// reported since the watch began.
func numberConditions(states []store.NumberState, since time.Time) []condition {
	var out []condition
	for _, st := range states {
		stamp := st.Account + "@" + st.UpdatedAt.UTC().Format(time.RFC3339Nano)
		switch {
		case st.Flagged:
			out = append(out, condition{store.ClassNumberFlagged, "number_flagged/" + stamp,
				"the business number was FLAGGED for low quality (phone_number_quality_update); its tier drops unless quality recovers"})
		case st.UpdatedAt.Before(since):
		case st.Event == "DOWNGRADE" || st.Quality == "RED":
			out = append(out, condition{store.ClassNumberQuality, "number_quality/" + stamp,
				fmt.Sprintf("the business number's quality dropped (%s)", strings.TrimPrefix(st.Event+" "+st.Quality, " "))})
		}
	}
	return out
}

// templateConditions: a template of the journey PAUSED or DISABLED in the
// registry.
func (b *Broadcasts) templateConditions(ctx context.Context, j journeys.Journey) ([]condition, error) {
	used := j.Templates(b.Channels)
	if len(used) == 0 {
		return nil, nil
	}
	ts, err := b.Guard.ListTemplates(ctx)
	if err != nil {
		return nil, err
	}
	var out []condition
	for _, u := range used {
		for _, t := range ts {
			if t.Name != u.Name || !whatsapp.SameLanguage(t.Language, u.Language) {
				continue
			}
			if t.Status == "PAUSED" || t.Status == "DISABLED" {
				out = append(out, condition{store.ClassTemplatePaused, "template/" + t.Name + "/" + t.Language + "/" + t.Status,
					fmt.Sprintf("template %s (%s) is %s", t.Name, t.Language, t.Status)})
			}
		}
	}
	return out, nil
}

// failureConditions: a send failed because its template is paused or
// disabled, or the failure rate of GuardCodes above the threshold.
func (b *Broadcasts) failureConditions(o store.SendOutcomes, since time.Time) []condition {
	var out []condition
	stamp := since.UTC().Format(time.RFC3339Nano)
	if n := o.Failed(pausingCodes...); n > 0 {
		out = append(out, condition{store.ClassTemplatePaused, "template_failures@" + stamp,
			fmt.Sprintf("%d sends failed with 132015/132016: the template is paused or disabled for low quality", n)})
	}
	n := o.Failed(GuardCodes...)
	if o.Sends >= min(guardMinSends, b.Quality.sends()) && float64(n) > b.Quality.rate()*float64(o.Sends) {
		out = append(out, condition{store.ClassFailureSurge, "failure_rate@" + stamp,
			fmt.Sprintf("%d of the last %d WhatsApp sends failed with %s (more than %.0f%%)", n, o.Sends,
				strings.Join(GuardCodes, " or "), b.Quality.rate()*100)})
	}
	return out
}

// room fills in the messaging limit's room now.
func (b *Broadcasts) room(ctx context.Context, res *CheckResult) error {
	if b.Limits == nil {
		return nil
	}
	tier, err := storedTier(ctx, b.Guard)
	if err != nil {
		return err
	}
	now := b.now()
	limit, capped := b.Limits.Limit(tier, now)
	if !capped {
		return nil
	}
	u, err := b.Guard.TierUsage(ctx, now)
	if err != nil {
		return err
	}
	res.Capped, res.Limit, res.Room = true, limit, max(limit-u.Recipients, 0)
	if !u.Oldest.IsZero() {
		res.FreeAt = u.Oldest.Add(store.TierWindow)
	}
	b.Metrics.tierUsage(limit, u.Recipients)
	return nil
}

func (b *Broadcasts) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}
