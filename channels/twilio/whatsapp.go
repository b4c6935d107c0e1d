package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// WhatsAppPrefix marks a WhatsApp address in Twilio's To and From.
const WhatsAppPrefix = "whatsapp:"

// Twilio's WhatsApp error codes that Switchback classifies. 63016, 63049
// and 63018 are in Twilio's error reference; 63038 (the account's daily
// message limit) is taken as a rate limit by analogy with 63018.
const (
	codeWAWindowClosed  = 63016 // outside the 24-hour window: permanent
	codeWARateLimit     = 63018 // rate limit exceeded for the channel: retryable
	codeWADailyLimit    = 63038 // account exceeded its daily messages limit: retryable
	codeWAMarketingHeld = 63049 // Meta chose not to deliver a marketing message: permanent
)

// CodeTemplateNotMapped is the SendError code of a WhatsApp template that
// has no Twilio Content SID in WhatsAppConfig.Content.
const CodeTemplateNotMapped = "template_not_mapped"

// CodeUnsupportedMessage is the SendError code of a WhatsApp session
// message that Twilio's Messages API cannot carry whole: reply buttons, a
// list, media by uploaded ID, a document's filename. Sending it without
// them would drop part of what the journey wrote; such content goes
// through Twilio as a Content template instead.
const CodeUnsupportedMessage = "unsupported_message"

// contentSID matches a Twilio Content SID: HX and 32 hex digits.
var contentSID = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)

// ValidContentSID reports whether sid has the form of a Twilio Content SID.
func ValidContentSID(sid string) bool { return contentSID.MatchString(sid) }

// ContentKey returns the key of a template in WhatsAppConfig.Content:
// "name:language", with the language as the API writes it (en_US, also
// for en-US).
func ContentKey(name, language string) string {
	return name + ":" + strings.ReplaceAll(language, "-", "_")
}

// WhatsAppConfig configures a WhatsAppClient.
type WhatsAppConfig struct {
	// APIURL, AccountSID, AuthToken, StatusCallbackURL and HTTPClient are
	// as in Config.
	APIURL            string
	AccountSID        string
	AuthToken         string
	StatusCallbackURL string
	HTTPClient        *http.Client
	// From is the WhatsApp-enabled sender in E.164 (+15017122661), with
	// or without the "whatsapp:" prefix (WHATSAPP_FROM).
	From string
	// Content maps templates to the Twilio Content SIDs (HX...) that
	// carry them, keyed by ContentKey(name, language)
	// (WHATSAPP_TWILIO_CONTENT).
	Content map[string]string
	// Templates, if set, checks each template before it is sent, as the
	// Cloud API client does (whatsapp.CheckTemplate).
	Templates whatsapp.TemplateRegistry
}

// WhatsAppClient sends WhatsApp messages through Twilio, for numbers that
// live at Twilio as the business solution provider. Templates go as
// Twilio Content (ContentSid and ContentVariables), session text as Body.
// It is safe for concurrent use.
type WhatsAppClient struct {
	twilio    *Client
	content   map[string]string
	templates whatsapp.TemplateRegistry
}

// NewWhatsAppClient returns a WhatsAppClient for cfg. Its errors name the
// setting at fault: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_URL,
// WHATSAPP_FROM or WHATSAPP_TWILIO_CONTENT.
func NewWhatsAppClient(cfg WhatsAppConfig) (*WhatsAppClient, error) {
	from := strings.TrimPrefix(cfg.From, WhatsAppPrefix)
	if from == "" {
		return nil, errors.New("whatsapp via twilio: WHATSAPP_FROM is not set")
	}
	if !strings.HasPrefix(from, "+") {
		return nil, fmt.Errorf("whatsapp via twilio: WHATSAPP_FROM %q: want an E.164 number, +15017122661", cfg.From)
	}
	if _, err := whatsapp.NormalizeRecipient(from); err != nil {
		return nil, fmt.Errorf("whatsapp via twilio: WHATSAPP_FROM: %w", err)
	}
	content := make(map[string]string, len(cfg.Content))
	for k, sid := range cfg.Content {
		if !ValidContentSID(sid) {
			return nil, fmt.Errorf("whatsapp via twilio: WHATSAPP_TWILIO_CONTENT: %s=%q is not a Content SID (HX and 32 hex digits)", k, sid)
		}
		name, lang, _ := strings.Cut(k, ":")
		content[ContentKey(name, lang)] = sid
	}
	c, err := NewClient(Config{
		APIURL:            cfg.APIURL,
		AccountSID:        cfg.AccountSID,
		AuthToken:         cfg.AuthToken,
		From:              WhatsAppPrefix + from,
		StatusCallbackURL: cfg.StatusCallbackURL,
		HTTPClient:        cfg.HTTPClient,
	})
	if err != nil {
		return nil, fmt.Errorf("whatsapp via twilio: %w", err)
	}
	return &WhatsAppClient{twilio: c, content: content, templates: cfg.Templates}, nil
}

// Send sends msg on WhatsApp through Twilio. A template goes as the
// Content SID mapped to its name and language, with ContentVariables
// numbered as ContentVariables describes; text goes as Body; media by link
// as MediaUrl with its caption as Body. Interactive messages (reply
// buttons, lists), uploaded media IDs and a document's filename are not
// available through Twilio's Messages API: they are permanent errors coded
// CodeUnsupportedMessage, never sent with a part missing (reply context
// alone is dropped).
//
// A nil error means Twilio accepted the message; statuses, read included,
// come back through the Twilio status callback with the provider "twilio".
// Errors are *channels.SendError values on the WhatsApp channel, wrapped:
// rate limits (20429, 63018, 63038) and server errors are retryable; the
// window closed (63016), Meta declining a marketing message (63049) and the
// rest are permanent.
func (c *WhatsAppClient) Send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	return sendChecked(ctx, "whatsapp via twilio", msg, c.send)
}

func (c *WhatsAppClient) send(ctx context.Context, msg channels.Message) (channels.SendResult, error) {
	if msg.Template != nil && c.templates != nil {
		if err := whatsapp.CheckTemplate(ctx, c.templates, msg.Template); err != nil {
			var se *channels.SendError
			if errors.As(err, &se) {
				se.Provider = Provider // the check's verdict, reported for this provider
			}
			return channels.SendResult{}, err
		}
	}
	params, err := c.params(msg)
	if err != nil {
		return channels.SendResult{}, err
	}
	return c.twilio.create(ctx, channels.WhatsApp, params, msg.Correlation)
}

// params builds the create request for msg, without sender and callback.
func (c *WhatsAppClient) params(msg channels.Message) (*openapi.CreateMessageParams, error) {
	invalid := func(code, reason string) error {
		return sendError(channels.WhatsApp, code, reason, false, false, errors.New(reason))
	}
	to, err := whatsapp.NormalizeRecipient(strings.TrimPrefix(msg.To, WhatsAppPrefix))
	if err != nil {
		return nil, invalid("invalid_recipient", err.Error())
	}
	p := &openapi.CreateMessageParams{}
	p.SetTo(WhatsAppPrefix + "+" + to)
	switch {
	case msg.Template != nil:
		t := msg.Template
		sid, ok := c.content[ContentKey(t.Name, t.Language)]
		if !ok {
			return nil, invalid(CodeTemplateNotMapped, fmt.Sprintf(
				"template %q (%s) has no Twilio Content SID: add %s=HX... to WHATSAPP_TWILIO_CONTENT", t.Name, t.Language, ContentKey(t.Name, t.Language)))
		}
		vars, err := ContentVariables(t)
		if err != nil {
			return nil, invalid("unsupported_template_parameters", err.Error())
		}
		p.SetContentSid(sid)
		if vars != "" {
			p.SetContentVariables(vars)
		}
	case msg.Interactive != nil:
		return nil, invalid(CodeUnsupportedMessage, fmt.Sprintf("WhatsApp via Twilio cannot send a session message with reply buttons or a list (%s): "+
			"Twilio's Messages API carries them only as Content templates; send a template, or use the Cloud API (WHATSAPP_PROVIDER=meta)", msg.Interactive.Kind))
	case msg.Media != nil && msg.Media.ID != "":
		return nil, invalid(CodeUnsupportedMessage, "WhatsApp via Twilio sends media by https link only, not by an uploaded media id")
	case msg.Media != nil && msg.Media.Filename != "":
		return nil, invalid(CodeUnsupportedMessage, "WhatsApp via Twilio cannot name a document (filename): Twilio takes the name from the link")
	case msg.Text != "":
		p.SetBody(msg.Text)
	case msg.Media != nil && msg.Media.Link != "":
		p.SetMediaUrl([]string{msg.Media.Link})
		if msg.Media.Caption != "" {
			p.SetBody(msg.Media.Caption)
		}
	default:
		return nil, invalid("invalid_message", "whatsapp message needs a template, text or media")
	}
	return p, nil
}

// ContentVariables returns the ContentVariables JSON of t: its body
// parameters numbered from "1", then its button_url suffixes numbered on
// after them. A template with body ["Ana", "493817"] and button_url
// ["c/1"] gives {"1":"Ana","2":"493817","3":"c/1"}; the Content template
// must number its variables that way. It returns "" when t has no
// parameters, and an error for header and indexed button parameters, which
// belong in the Content template itself.
func ContentVariables(t *channels.Template) (string, error) {
	if t.Header != nil || len(t.Buttons) > 0 {
		return "", errors.New("WhatsApp via Twilio takes body and button_url parameters only: put the header and buttons in the Content template")
	}
	vars := map[string]string{}
	for i, v := range append(append([]string(nil), t.Body...), t.ButtonURL...) {
		vars[strconv.Itoa(i+1)] = v
	}
	if len(vars) == 0 {
		return "", nil
	}
	b, err := json.Marshal(vars)
	if err != nil {
		return "", fmt.Errorf("content variables: %w", err)
	}
	return string(b), nil
}
