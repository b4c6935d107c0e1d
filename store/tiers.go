package store

import (
	"slices"
	"time"
)

// TierWindow is the rolling window of WhatsApp's messaging limits: a tier
// caps the unique recipients of business-initiated messages within any 24
// hours.
const TierWindow = 24 * time.Hour

// TierUsage is what the messaging-limit counter holds in the TierWindow
// ending at a time (Store.TierUsage).
type TierUsage struct {
	// Recipients counts the unique recipients counted in the window.
	Recipients int `json:"recipients"`
	// Oldest is when the recipient counted longest ago was last counted:
	// a slot frees at Oldest + TierWindow. Zero when none is counted.
	Oldest time.Time `json:"oldest"`
}

// NumberState is what Meta last said of the business phone number of a
// WhatsApp Business Account: its messaging-limit tier and its quality
// events (the phone_number_quality_update webhook, or a Graph API read).
type NumberState struct {
	// Account is the WhatsApp Business Account id.
	Account string `json:"account"`
	// Tier is the messaging limit, e.g. TIER_250, TIER_2K, TIER_UNLIMITED;
	// empty when unknown.
	Tier string `json:"tier,omitempty"`
	// Quality is the number's quality rating (GREEN, YELLOW, RED), when
	// known.
	Quality string `json:"quality,omitempty"`
	// Event is the last quality event: FLAGGED, UNFLAGGED, DOWNGRADE,
	// UPGRADE, ONBOARDING, THROUGHPUT_UPGRADE.
	Event string `json:"event,omitempty"`
	// Flagged: the number was FLAGGED and not UNFLAGGED since.
	Flagged   bool      `json:"flagged"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SendOutcomes counts how the newest messages on a channel of the journeys
// under a workflow id prefix ended so far (Store.RecentOutcomes).
type SendOutcomes struct {
	// Sends counts the messages: accepted by the provider, or refused.
	Sends int `json:"sends"`
	// Failures counts the failed ones by error code ("" when the failure
	// had none).
	Failures map[string]int `json:"failures,omitempty"`
}

// Failed counts the failures with one of codes; with no codes, every
// failure.
func (o SendOutcomes) Failed(codes ...string) int {
	n := 0
	for code, k := range o.Failures {
		if len(codes) == 0 || slices.Contains(codes, code) {
			n += k
		}
	}
	return n
}
