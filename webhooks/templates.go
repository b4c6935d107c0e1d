package webhooks

import (
	"context"
	"net/http"

	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// whatsAppTemplateStatus hands the template status changes in n to
// Config.TemplateStatus. It reports false when it has answered the request
// itself: 400 for a malformed change, 503 when the hook fails.
func (h *Handler) whatsAppTemplateStatus(ctx context.Context, w http.ResponseWriter, n *whatsapp.Notification) bool {
	updates, err := n.TemplateStatusUpdates()
	if err != nil {
		http.Error(w, "malformed notification: "+err.Error(), http.StatusBadRequest)
		return false
	}
	for _, u := range updates {
		if h.cfg.TemplateStatus == nil {
			h.log.Info("whatsapp template status changed (no registry hook)", "template", u.Name,
				"language", u.Language, "event", u.Event, "reason", u.Reason)
			continue
		}
		if err := h.cfg.TemplateStatus(ctx, u); err != nil {
			h.log.Error("could not record template status; asking Meta to retry", "template", u.Name,
				"language", u.Language, "event", u.Event, "error", err)
			w.Header().Set("Retry-After", "5")
			http.Error(w, "temporarily unavailable, retry later", http.StatusServiceUnavailable)
			return false
		}
	}
	return true
}
