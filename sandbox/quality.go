package sandbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// DefaultMessagingLimit is the tier the WhatsApp lookalike reports for its
// number unless Config.MessagingLimit says another: unlimited, so that
// journeys and broadcasts in `dev` and the benchmark are not held.
const DefaultMessagingLimit = "TIER_UNLIMITED"

// serveNumber handles GET /{version}/{phone_number_id}, the Graph API's
// phone number node: its messaging limit
// (whatsapp_business_manager_messaging_limit, and the deprecated
// messaging_limit_tier) and its quality rating.
func (s *Sandbox) serveNumber(w http.ResponseWriter, r *http.Request) {
	if !s.graphAuthorized(w, r) {
		return
	}
	if id := r.PathValue("phone_number_id"); id != s.cfg.PhoneNumberID {
		writeNoObject(w, id)
		return
	}
	s.mu.Lock()
	tier := s.cfg.MessagingLimit
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"id": s.cfg.PhoneNumberID, "display_phone_number": s.cfg.DisplayPhoneNumber, "quality_rating": "GREEN",
		"whatsapp_business_manager_messaging_limit": tier, "messaging_limit_tier": tier,
	})
}

// TemplateStatusChanges posts a signed message_template_status_update
// webhook, as Meta does when a template is paused (event PAUSED, other
// info FIRST_PAUSE), disabled, or approved again. The template is one of
// Templates, by name and language (en_US or en-US).
func (s *Sandbox) TemplateStatusChanges(ctx context.Context, name, language, event string) error {
	var id int64
	for _, t := range Templates() {
		if t.Name == name && sameLanguage(t.Language, language) {
			id, _ = strconv.ParseInt(t.ID, 10, 64)
		}
	}
	if id == 0 {
		return fmt.Errorf("template status: the sandbox has no template %s (%s)", name, language)
	}
	s.setTemplateStatus(name, language, event)
	value := map[string]any{
		"event": event, "message_template_id": id, "message_template_name": name,
		"message_template_language": hyphenated(language), "reason": "NONE",
	}
	if event == "PAUSED" {
		value["other_info"] = map[string]string{"title": "FIRST_PAUSE", "description": "Your template was paused for 3 hours because of low quality."}
	}
	return s.postAccountChange(ctx, "message_template_status_update", name, value)
}

// NumberQualityChanges posts a signed phone_number_quality_update webhook
// for the sandbox's number, e.g. event FLAGGED or DOWNGRADE, with the tier
// then in force; a non-empty tier becomes the one GET of the number
// reports.
func (s *Sandbox) NumberQualityChanges(ctx context.Context, event, tier string) error {
	s.mu.Lock()
	old := s.cfg.MessagingLimit
	if tier != "" {
		s.cfg.MessagingLimit = tier
	} else {
		tier = old
	}
	s.mu.Unlock()
	value := map[string]string{"display_phone_number": digits(s.cfg.DisplayPhoneNumber), "event": event, "current_limit": tier}
	if tier != old {
		value["old_limit"] = old
	}
	return s.postAccountChange(ctx, "phone_number_quality_update", event, value)
}

// accountChange is a hand-played change of the WhatsApp account: a
// template's status event, or the number's quality event and tier.
type accountChange struct {
	Template string `json:"template"`
	Language string `json:"language"`
	Event    string `json:"event"`
	Number   string `json:"number"`
	Tier     string `json:"tier"`
}

// serveAccount lets a person play Meta changing the account: POST
// /account with a JSON body {"template": NAME, "language": "en_US",
// "event": "PAUSED"} (or DISABLED, REINSTATED, ...) or {"number":
// "FLAGGED"} (or DOWNGRADE, UNFLAGGED, ..., with an optional "tier"). Only
// JSON is taken: a web page cannot post it cross-site without CORS.
func (s *Sandbox) serveAccount(w http.ResponseWriter, r *http.Request) {
	const want = `{"template": NAME, "language": "en_US", "event": "PAUSED"} or {"number": "FLAGGED", "tier": "TIER_2K"}`
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "want Content-Type application/json and "+want, http.StatusUnsupportedMediaType)
		return
	}
	var c accountChange
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInboundBody)).Decode(&c); err != nil {
		http.Error(w, "JSON body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	switch {
	case c.Template != "" && c.Event != "" && c.Number == "":
		err = s.TemplateStatusChanges(r.Context(), c.Template, cmp.Or(c.Language, "en_US"), c.Event)
	case c.Number != "" && c.Template == "":
		err = s.NumberQualityChanges(r.Context(), c.Number, c.Tier)
	default:
		http.Error(w, "want "+want, http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintln(w, "delivered the account change")
}

// postAccountChange posts one signed change of an account field.
func (s *Sandbox) postAccountChange(ctx context.Context, field, what string, value any) error {
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []map[string]any{{"id": s.cfg.WABAID, "time": time.Now().Unix(),
			"changes": []map[string]any{{"field": field, "value": value}}}},
	})
	if err != nil {
		return err
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("X-Hub-Signature-256", WhatsAppSignature(s.cfg.AppSecret, body))
	if err := s.deliver(ctx, callback{provider: ProviderWhatsApp, status: field, id: what, url: s.cfg.WhatsAppWebhookURL, body: body, header: h}); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// setTemplateStatus records the status a template has after a status
// event, as Meta's template node then reports it: FLAGGED only warns,
// REINSTATED and UNARCHIVED make it APPROVED again. The lookalike keeps
// its own reading of Meta's events rather than Switchback's (templates'
// registry), so that a mistake there is not repeated here and hidden.
func (s *Sandbox) setTemplateStatus(name, language, event string) {
	status := event
	switch event {
	case "FLAGGED":
		return
	case "REINSTATED", "UNARCHIVED":
		status = "APPROVED"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.templates == nil {
		s.templates = map[string]string{}
	}
	s.templates[templateKey(name, language)] = status
}

// currentTemplates returns Templates with the statuses they have now.
func (s *Sandbox) currentTemplates() []Template {
	all := Templates()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range all {
		if status, ok := s.templates[templateKey(t.Name, t.Language)]; ok {
			all[i].Status = status
		}
	}
	return all
}

// templateFailure is the error code with which Meta fails a send of the
// template once accepted (a failed status webhook): 132015 while it is
// paused, 132016 once disabled; 0 for a template that may be sent.
func (s *Sandbox) templateFailure(name, language string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.templates[templateKey(name, language)] {
	case "PAUSED":
		return codeWATemplatePaused
	case "DISABLED":
		return codeWATemplateDisabled
	}
	return 0
}

// templateKey names a template by its name and language, however the
// language is written.
func templateKey(name, language string) string { return name + "/" + hyphenated(language) }

// sameLanguage compares language codes written en_US or en-US.
func sameLanguage(a, b string) bool { return hyphenated(a) == hyphenated(b) }

// hyphenated writes a language code as webhooks do: en-US.
func hyphenated(lang string) string {
	b := []byte(lang)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}
