package webhooks

import (
	"context"
	"net/http"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
)

// sendGridEvents serves POST /webhooks/sendgrid: a signed batch of Event
// Webhook events. Status events are signalled to their journeys; the
// others go to Config.SendGridEvent, or to the log.
func (h *Handler) sendGridEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r, "sendgrid")
	if !ok {
		return
	}
	key, err := email.ParsePublicKey(h.cfg.SendGridPublicKey)
	if err != nil {
		h.log.Error("sendgrid webhook cannot be verified: check SENDGRID_WEBHOOK_PUBLIC_KEY", "error", err)
		http.Error(w, "webhook verification key is misconfigured", http.StatusInternalServerError)
		return
	}
	v := email.Verifier{Key: key, MaxSkew: h.cfg.SendGridMaxSkew}
	if err := v.Verify(body, r.Header.Get(email.SignatureHeader), r.Header.Get(email.TimestampHeader)); err != nil {
		h.log.Warn("sendgrid webhook signature rejected", "error", err)
		h.signatureRejected("sendgrid")
		http.Error(w, "bad signature: "+err.Error(), http.StatusForbidden)
		return
	}
	events, err := email.ParseEvents(body)
	if err != nil {
		http.Error(w, "malformed events: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.SignalTimeout)
	defer cancel()
	for _, ev := range events {
		if err := h.sendGridEvent(ctx, ev); err != nil {
			u, _ := ev.StatusUpdate()
			u.Provider, u.MessageID = email.Provider, ev.MessageID
			h.unavailable(w, "sendgrid", u, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// sendGridEvent handles one event.
func (h *Handler) sendGridEvent(ctx context.Context, ev email.Event) error {
	if h.cfg.Messages != nil && ev.Email != "" {
		// Spam reports, unsubscribes and hard bounces suppress the address
		// before anything else: the next journey must not mail it.
		if err := h.SuppressFromSendGrid(ctx, ev); err != nil {
			return err
		}
	}
	u, isStatus := ev.StatusUpdate()
	switch {
	case isStatus && ev.MessageID == "" && !ev.HasCorrelation:
		h.log.Warn("sendgrid event with neither message id nor correlation; dropped",
			"event", ev.Kind, "sg_event_id", ev.EventID)
		return nil
	case isStatus:
		var corr *channels.Correlation
		if ev.HasCorrelation {
			corr = &ev.Correlation
		}
		return h.deliver(ctx, u, corr)
	case h.cfg.SendGridEvent != nil:
		return h.cfg.SendGridEvent(ctx, ev)
	case ev.Kind.Suppression() && (h.cfg.Messages == nil || ev.Email == ""):
		h.log.Warn("sendgrid suppression request not recorded: no store or no address",
			"event", ev.Kind, "message_id", ev.MessageID, "workflow_id", ev.Correlation.WorkflowID)
	default:
		h.log.Info("sendgrid event", "event", ev.Kind, "message_id", ev.MessageID,
			"workflow_id", ev.Correlation.WorkflowID, "response", ev.Response, "attempt", ev.Attempt)
	}
	return nil
}
