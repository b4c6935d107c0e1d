package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
)

// Template is a message template the WhatsApp lookalike lists at
// GET /{version}/{waba-id}/message_templates, in the Graph API's shape.
type Template struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Language        string    `json:"language"`
	Status          string    `json:"status"`
	Category        string    `json:"category"`
	ParameterFormat string    `json:"parameter_format"`
	Components      []tComp   `json:"components"`
	QualityScore    *tQuality `json:"quality_score,omitempty"`
	RejectedReason  string    `json:"rejected_reason,omitempty"`
	SubCategory     string    `json:"sub_category,omitempty"`
}

type tComp struct {
	Type    string    `json:"type"`
	Format  string    `json:"format,omitempty"`
	Text    string    `json:"text,omitempty"`
	Buttons []tButton `json:"buttons,omitempty"`
}

type tButton struct {
	Type string `json:"type"`
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

type tQuality struct {
	Score string `json:"score"`
}

// Templates returns the templates the sandbox lists: those of the built-in
// journeys, approved, and two that show the other statuses (spring_sale is
// PAUSED, welcome_offer REJECTED).
func Templates() []Template {
	body := func(text string) tComp { return tComp{Type: "BODY", Text: text} }
	urlButton := func(text, url string) tComp {
		return tComp{Type: "BUTTONS", Buttons: []tButton{{Type: "URL", Text: text, URL: url}}}
	}
	green := &tQuality{Score: "GREEN"}
	utility := func(id, name, text string, extra ...tComp) Template {
		return Template{ID: id, Name: name, Language: "en_US", Status: "APPROVED", Category: "UTILITY",
			ParameterFormat: "POSITIONAL", QualityScore: green, Components: append([]tComp{body(text)}, extra...)}
	}
	marketing := func(id, name, text string) Template {
		t := utility(id, name, text, urlButton("Open your cart", "https://shop.example.com/{{1}}"))
		t.Category = "MARKETING"
		return t
	}
	return []Template{
		{ID: "1000000000000001", Name: "otp_code", Language: "en_US", Status: "APPROVED", Category: "AUTHENTICATION",
			ParameterFormat: "POSITIONAL", QualityScore: green, Components: []tComp{
				body("*{{1}}* is your verification code. For your security, do not share this code."),
				{Type: "FOOTER", Text: "This code expires in 10 minutes."},
				urlButton("Copy code", "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}"),
			}},
		utility("1000000000000002", "order_confirmed", "Your order {{1}} is confirmed. Thank you!"),
		utility("1000000000000003", "order_shipped", "Your order {{1}} has shipped.", urlButton("Track it", "https://track.example.com/{{1}}")),
		utility("1000000000000004", "order_out_for_delivery", "Your order {{1}} is out for delivery today."),
		utility("1000000000000005", "order_delivered", "Your order {{1}} was delivered. Enjoy!"),
		utility("1000000000000006", "order_cancelled", "Your order {{1}} was cancelled."),
		marketing("1000000000000007", "cart_reminder", "You left something in your cart."),
		marketing("1000000000000008", "cart_last_call", "Last call: your cart expires soon."),
		{ID: "1000000000000009", Name: "spring_sale", Language: "en", Status: "PAUSED", Category: "MARKETING",
			ParameterFormat: "POSITIONAL", QualityScore: &tQuality{Score: "RED"}, Components: []tComp{
				{Type: "HEADER", Format: "IMAGE"},
				body("Hi {{1}}, spring sale: {{2}} off everything."),
				{Type: "BUTTONS", Buttons: []tButton{{Type: "QUICK_REPLY", Text: "Stop promotions"}}},
			}},
		{ID: "1000000000000010", Name: "welcome_offer", Language: "pt_BR", Status: "REJECTED", Category: "MARKETING",
			ParameterFormat: "POSITIONAL", RejectedReason: "INVALID_FORMAT", Components: []tComp{body("Olá {{1}}{{2}}!")}},
	}
}

// writeNoObject answers a GET of a Graph object the sandbox does not
// have, as the Graph API does.
func writeNoObject(w http.ResponseWriter, id string) {
	writeGraphError(w, http.StatusBadRequest, graphError{
		Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id),
		Type:    "GraphMethodException", Code: codeGraphInvalidParam, ErrorSubcode: 33,
	})
}

// serveTemplates handles GET /{version}/{waba_id}/message_templates, with
// cursor paging (limit, after) as the Graph API pages.
func (s *Sandbox) serveTemplates(w http.ResponseWriter, r *http.Request) {
	if !s.graphAuthorized(w, r) {
		return
	}
	if id := r.PathValue("waba_id"); id != s.cfg.WABAID {
		writeNoObject(w, id)
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	all := s.currentTemplates()
	start := 0
	if after := q.Get("after"); after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			writeGraphError(w, http.StatusBadRequest, graphError{Message: "(#100) Invalid cursor", Type: "OAuthException", Code: codeGraphInvalidParam})
			return
		}
		start = n
	}
	end := min(start+limit, len(all))
	cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
	type cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	}
	page := struct {
		Data   []Template `json:"data"`
		Paging struct {
			Cursors cursors `json:"cursors"`
			Next    string  `json:"next,omitempty"`
		} `json:"paging"`
	}{Data: all[start:end]}
	page.Paging.Cursors = cursors{Before: cursor(start), After: cursor(end)}
	if end < len(all) {
		next := *r.URL
		nq := next.Query()
		nq.Set("after", cursor(end))
		next.RawQuery = nq.Encode()
		page.Paging.Next = "http://" + r.Host + next.RequestURI()
	}
	writeJSON(w, http.StatusOK, page)
}
