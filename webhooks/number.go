package webhooks

import (
	"context"
	"net/http"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
)

// NumberState returns what a phone_number_quality_update says of the
// account's number, received at: its tier, its event, and whether it is
// FLAGGED (any other event clears the flag: UNFLAGGED, or a DOWNGRADE
// that settles it).
func NumberState(u whatsapp.NumberQualityUpdate, at time.Time) store.NumberState {
	return store.NumberState{Account: u.WABAID, Tier: u.Tier(), Event: u.Event, Flagged: u.Event == whatsapp.NumberFlagged, UpdatedAt: at}
}

// whatsAppNumberQuality hands the number quality changes in n to
// Config.NumberState. It reports false when it has answered the request
// itself: 400 for a malformed change, 503 when the hook fails.
func (h *Handler) whatsAppNumberQuality(ctx context.Context, w http.ResponseWriter, n *whatsapp.Notification) bool {
	updates, err := n.NumberQualityUpdates()
	if err != nil {
		http.Error(w, "malformed notification: "+err.Error(), http.StatusBadRequest)
		return false
	}
	for _, u := range updates {
		// The display number stays out of the log.
		h.log.Warn("whatsapp business number quality changed", "account", u.WABAID, "event", u.Event, "tier", u.Tier())
		if h.cfg.NumberState == nil {
			continue
		}
		if err := h.cfg.NumberState(ctx, NumberState(u, h.now())); err != nil {
			h.log.Error("could not record number quality; asking Meta to retry", "account", u.WABAID, "event", u.Event, "error", err)
			w.Header().Set("Retry-After", "5")
			http.Error(w, "temporarily unavailable, retry later", http.StatusServiceUnavailable)
			return false
		}
	}
	return true
}
