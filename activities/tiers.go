package activities

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/store"
)

// Messaging-limit tiers as Meta names them (phone_number_quality_update,
// the Graph API's whatsapp_business_manager_messaging_limit).
const (
	TierUnlimited = "TIER_UNLIMITED"
	TierNotSet    = "TIER_NOT_SET"
)

// tierLimits are the unique recipients a day of each capped tier.
var tierLimits = map[string]int{
	"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10_000, "TIER_100K": 100_000,
}

// TierLimit returns the unique recipients a day that a tier allows:
// capped is false for TIER_UNLIMITED (or "unlimited"), and for TIER_NOT_SET
// or "" (nothing known). A plain number is a limit of its own. An unknown
// tier is an error naming it.
func TierLimit(tier string) (limit int, capped bool, err error) {
	t := strings.ToUpper(strings.TrimSpace(tier))
	switch t {
	case "", TierNotSet, TierUnlimited, "UNLIMITED":
		return 0, false, nil
	}
	if n, ok := tierLimits[t]; ok {
		return n, true, nil
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 0 {
		return n, true, nil
	}
	return 0, false, fmt.Errorf("messaging-limit tier %q: want TIER_50, TIER_250, TIER_1K, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED or a number", tier)
}

// MessagingLimits cap the unique WhatsApp recipients of business-initiated
// messages (templates outside the customer-service window) over any
// rolling store.TierWindow, across every journey and broadcast: the
// number's tier, and a warm-up schedule for a new number on top.
type MessagingLimits struct {
	// Tier, when set (SWITCHBACK_WHATSAPP_TIER), is the tier in force;
	// empty: the tier Meta last reported (store.NumberState), from the
	// phone_number_quality_update webhook or `templates sync`.
	Tier string
	// Warmup are the most recipients of each day from WarmupStart
	// (SWITCHBACK_WHATSAPP_WARMUP, SWITCHBACK_WHATSAPP_WARMUP_START); after
	// its last day the tier alone caps.
	Warmup      []int
	WarmupStart time.Time
}

// Limit returns the cap in force at a time, given the tier Meta reported
// (stored): the smaller of the tier's and the warm-up day's. capped is
// false when neither caps.
func (m MessagingLimits) Limit(stored string, at time.Time) (limit int, capped bool) {
	tier := m.Tier
	if tier == "" {
		tier = stored
	}
	limit, capped, err := TierLimit(tier)
	if err != nil {
		// A tier Meta reported that Switchback does not know: the least
		// known one is the safe reading.
		limit, capped = tierLimits["TIER_250"], true
	}
	if w, ok := m.warmup(at); ok && (!capped || w < limit) {
		limit, capped = w, true
	}
	return limit, capped
}

// warmup returns the warm-up schedule's limit of the day of at.
func (m MessagingLimits) warmup(at time.Time) (int, bool) {
	if len(m.Warmup) == 0 || at.Before(m.WarmupStart) {
		return 0, false
	}
	day := int(at.Sub(m.WarmupStart) / (24 * time.Hour))
	if day >= len(m.Warmup) {
		return 0, false
	}
	return m.Warmup[day], true
}

// ReasonTierLimitedPrefix starts the reason of an attempt that the
// messaging limit refused, followed by the limit, e.g. "tier limited: 250
// unique WhatsApp recipients within 24h".
const ReasonTierLimitedPrefix = "tier limited: "

// TierLimited returns the eligibility of a template send that the
// messaging limit leaves no room for: a skip of class
// store.ClassTierLimited.
func TierLimited(limit int) Eligibility {
	return Eligibility{Reason: fmt.Sprintf("%s%d unique WhatsApp recipients within 24h", ReasonTierLimitedPrefix, limit),
		Class: store.ClassTierLimited}
}

// storedTier returns the tier Meta last reported for any account: the
// most recently updated state that names one.
func storedTier(ctx context.Context, s interface {
	NumberStates(ctx context.Context) ([]store.NumberState, error)
}) (string, error) {
	states, err := s.NumberStates(ctx)
	if err != nil {
		return "", err
	}
	var tier string
	var at time.Time
	for _, st := range states {
		if st.Tier != "" && !st.UpdatedAt.Before(at) {
			tier, at = st.Tier, st.UpdatedAt
		}
	}
	return tier, nil
}

// tierLimit returns the messaging limit in force now, if any.
func (a *Activities) tierLimit(ctx context.Context) (int, bool, error) {
	if a.Limits == nil {
		return 0, false, nil
	}
	stored, err := storedTier(ctx, a.Messages)
	if err != nil {
		return 0, false, err
	}
	limit, capped := a.Limits.Limit(stored, a.now())
	return limit, capped, nil
}

// reserveRecipient counts the contact, sent a template, against the
// messaging limit, if one is in force and the contact's service window is
// closed (a template inside it is not business-initiated): false with the
// skip's eligibility when the limit is reached.
func (a *Activities) reserveRecipient(ctx context.Context, key string) (Eligibility, bool, error) {
	limit, capped, err := a.tierLimit(ctx)
	if err != nil || !capped {
		return Eligibility{}, true, err
	}
	open, err := a.windowOpen(ctx, key)
	if err != nil || open {
		return Eligibility{}, true, err
	}
	ok, err := a.Messages.ReserveRecipient(ctx, key, limit, a.now())
	if err != nil || ok {
		return Eligibility{}, ok, err
	}
	return TierLimited(limit), false, nil
}
