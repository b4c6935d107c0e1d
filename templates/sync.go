package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store"
)

// SyncConfig says where to read templates from.
type SyncConfig struct {
	// APIURL is the Graph API base URL with its version
	// (WHATSAPP_API_URL).
	APIURL string
	// WABAID is the WhatsApp Business Account (WHATSAPP_WABA_ID).
	WABAID string
	// AccessToken needs whatsapp_business_management (WHATSAPP_ACCESS_TOKEN).
	AccessToken string
	// PhoneNumberID is the business number whose messaging limit FetchTier
	// reads (WHATSAPP_PHONE_NUMBER_ID).
	PhoneNumberID string
	// PageSize is the limit asked per page; 0 means 100.
	PageSize int
	// HTTPClient makes the requests; nil means one with a 30s timeout.
	HTTPClient *http.Client
}

// maxPages bounds a sync, against a paging loop.
const maxPages = 1000

// fields are the template fields a sync asks for.
const fields = "id,name,language,status,category,parameter_format,components,quality_score,rejected_reason"

// graphTemplate is a template as the Graph API lists it.
type graphTemplate struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Language        string `json:"language"`
	Status          string `json:"status"`
	Category        string `json:"category"`
	ParameterFormat string `json:"parameter_format"`
	RejectedReason  string `json:"rejected_reason"`
	QualityScore    *struct {
		Score string `json:"score"`
	} `json:"quality_score"`
	Components []struct {
		Type    string `json:"type"`
		Format  string `json:"format"`
		Text    string `json:"text"`
		Buttons []struct {
			Type string `json:"type"`
			Text string `json:"text"`
			URL  string `json:"url"`
		} `json:"buttons"`
	} `json:"components"`
}

type graphPage struct {
	Data   []graphTemplate `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// Fetch lists every template of the account, following the pages.
func Fetch(ctx context.Context, cfg SyncConfig) ([]Template, error) {
	switch {
	case cfg.APIURL == "":
		return nil, errors.New("templates: WHATSAPP_API_URL is not set")
	case cfg.WABAID == "":
		return nil, errors.New("templates: WHATSAPP_WABA_ID is not set: the WhatsApp Business Account whose templates to read")
	case cfg.AccessToken == "":
		return nil, errors.New("templates: WHATSAPP_ACCESS_TOKEN is not set")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	size := cfg.PageSize
	if size <= 0 {
		size = 100
	}
	base := strings.TrimRight(cfg.APIURL, "/") + "/" + url.PathEscape(cfg.WABAID) + "/message_templates"
	q := url.Values{"fields": {fields}, "limit": {strconv.Itoa(size)}}
	var out []Template
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("templates: more than %d pages", maxPages)
		}
		p, err := fetchPage(ctx, hc, base+"?"+q.Encode(), cfg.AccessToken)
		if err != nil {
			return nil, fmt.Errorf("templates: page %d: %w", page+1, err)
		}
		for _, g := range p.Data {
			out = append(out, g.template())
		}
		// paging.next is present while there are more pages; the cursor
		// is applied to our own base URL rather than following next, so
		// that the token never goes to a host it was not configured for.
		if p.Paging.Next == "" || p.Paging.Cursors.After == "" || len(p.Data) == 0 {
			return out, nil
		}
		q.Set("after", p.Paging.Cursors.After)
	}
}

func fetchPage(ctx context.Context, hc *http.Client, u, token string) (*graphPage, error) {
	body, err := graphGet(ctx, hc, u, token, "message_templates")
	if err != nil {
		return nil, err
	}
	var p graphPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("message_templates response is not the documented JSON: %w", err)
	}
	return &p, nil
}

// graphGet GETs u with the token and returns the body of a 200 answer; a
// Graph API error is a *whatsapp.APIError. what names the node in errors.
func graphGet(ctx context.Context, hc *http.Client, u, token, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		if apiErr, ok := whatsapp.ParseAPIError(resp.StatusCode, body); ok {
			return nil, apiErr
		}
		return nil, fmt.Errorf("GET %s: HTTP %d", what, resp.StatusCode)
	}
	return body, nil
}

// template converts g, counting the parameters of each component.
func (g graphTemplate) template() Template {
	t := Template{
		ID: g.ID, Name: g.Name, Language: g.Language, Status: g.Status, Category: g.Category,
		ParameterFormat: g.ParameterFormat, RejectedReason: g.RejectedReason,
	}
	if t.RejectedReason == "NONE" {
		t.RejectedReason = ""
	}
	if g.QualityScore != nil {
		t.Quality = g.QualityScore.Score
	}
	for _, gc := range g.Components {
		c := Component{Type: strings.ToUpper(gc.Type), Format: strings.ToUpper(gc.Format), Text: gc.Text}
		if c.Type == "HEADER" && c.Format == "" && c.Text != "" {
			c.Format = "TEXT"
		}
		if c.Type == "HEADER" && c.Format == "TEXT" || c.Type == "BODY" {
			c.Params = countParams(gc.Text)
		}
		for _, gb := range gc.Buttons {
			b := Button{Type: strings.ToUpper(gb.Type), Text: gb.Text, URL: gb.URL}
			b.Params = buttonParams(b)
			c.Buttons = append(c.Buttons, b)
		}
		t.Components = append(t.Components, c)
	}
	return t
}

// Sync fetches the account's templates and makes them reg's content. It
// returns how many templates it stored.
func Sync(ctx context.Context, cfg SyncConfig, reg *Registry) (int, error) {
	ts, err := Fetch(ctx, cfg)
	if err != nil {
		return 0, err
	}
	if err := reg.Replace(ctx, cfg.WABAID, ts, time.Now()); err != nil {
		return 0, err
	}
	return len(ts), nil
}

// FetchTier reads the messaging-limit tier of the business phone number:
// GET /<PHONE_NUMBER_ID>?fields=whatsapp_business_manager_messaging_limit
// (the portfolio's limit), falling back on the deprecated
// messaging_limit_tier. Empty when the API reports neither.
func FetchTier(ctx context.Context, cfg SyncConfig) (string, error) {
	switch {
	case cfg.APIURL == "":
		return "", errors.New("messaging limit: WHATSAPP_API_URL is not set")
	case cfg.PhoneNumberID == "":
		return "", errors.New("messaging limit: WHATSAPP_PHONE_NUMBER_ID is not set")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	u := strings.TrimRight(cfg.APIURL, "/") + "/" + url.PathEscape(cfg.PhoneNumberID) + "?" +
		url.Values{"fields": {"whatsapp_business_manager_messaging_limit,messaging_limit_tier"}}.Encode()
	body, err := graphGet(ctx, hc, u, cfg.AccessToken, "phone number")
	if err != nil {
		return "", fmt.Errorf("messaging limit: %w", err)
	}
	var n struct {
		Limit string `json:"whatsapp_business_manager_messaging_limit"`
		Tier  string `json:"messaging_limit_tier"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return "", fmt.Errorf("messaging limit: the phone number response is not the documented JSON: %w", err)
	}
	if n.Limit != "" {
		return n.Limit, nil
	}
	return n.Tier, nil
}

// SyncTier reads the number's messaging-limit tier (FetchTier) and
// records it as the account's number state, received at; an empty tier
// records nothing. It returns the tier.
func SyncTier(ctx context.Context, cfg SyncConfig, record func(context.Context, store.NumberState) error, at time.Time) (string, error) {
	tier, err := FetchTier(ctx, cfg)
	if err != nil || tier == "" {
		return tier, err
	}
	if err := record(ctx, store.NumberState{Account: cfg.WABAID, Tier: tier, UpdatedAt: at}); err != nil {
		return "", fmt.Errorf("messaging limit: record %s: %w", tier, err)
	}
	return tier, nil
}
