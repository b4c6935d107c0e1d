package journeys

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/phone"
)

// WALinkFunc is the template function that renders a WhatsApp
// click-to-chat link to the business number, its arguments joined as the
// message the customer's WhatsApp offers to send:
// {{wa_link "Hi, about order " .order_id}}.
const WALinkFunc = "wa_link"

// ErrNoBusinessNumber is the error of wa_link on a worker without a
// business number.
var ErrNoBusinessNumber = errors.New("wa_link needs the WhatsApp business number: set WHATSAPP_BUSINESS_NUMBER (E.164) on the worker")

// RenderOptions is what rendering takes from the worker, beside a
// journey's variables.
type RenderOptions struct {
	// BusinessNumber is the WhatsApp business number, E.164, that wa_link
	// links to (WHATSAPP_BUSINESS_NUMBER). Empty: wa_link fails.
	BusinessNumber string
	// Channels parses each attempt's fields with its channel's driver.
	Channels *channels.Registry
}

// placeholderOptions render templates that are checked, not sent.
var placeholderOptions = RenderOptions{BusinessNumber: "+15550000000"}

// funcs returns the template functions, bound to o.
func (o RenderOptions) funcs() template.FuncMap {
	return template.FuncMap{WALinkFunc: o.waLink}
}

// waLink returns https://wa.me/<digits of the business number>, with
// ?text= and the parts joined and query-escaped (spaces as %20) when they
// are not empty.
func (o RenderOptions) waLink(parts ...string) (string, error) {
	if o.BusinessNumber == "" {
		return "", ErrNoBusinessNumber
	}
	if err := phone.Check(o.BusinessNumber); err != nil {
		return "", fmt.Errorf("WHATSAPP_BUSINESS_NUMBER: %w", err)
	}
	link := "https://wa.me/" + strings.TrimPrefix(o.BusinessNumber, "+")
	if text := strings.Join(parts, ""); text != "" {
		// QueryEscape writes a space as "+" and a "+" as %2B, so every "+"
		// left is a space.
		link += "?text=" + strings.ReplaceAll(url.QueryEscape(text), "+", "%20")
	}
	return link, nil
}

// UsesWALink reports whether any text of the journey, in its steps or its
// handlers', calls wa_link. Attempts whose fields reg's drivers do not
// parse have no texts: validation reports them.
func (j Journey) UsesWALink(reg *channels.Registry) bool {
	for _, c := range j.contents(reg) {
		for _, t := range c.Texts() {
			if callsWALink(t.Text) {
				return true
			}
		}
	}
	return false
}

// callsWALink reports whether the template text calls wa_link. A text
// that does not parse calls nothing: validation reports it.
func callsWALink(text string) bool {
	t, err := template.New("").Funcs(placeholderOptions.funcs()).Parse(text)
	if err != nil {
		return false
	}
	found := false
	walk(t.Root, func(n parse.Node) {
		if id, ok := n.(*parse.IdentifierNode); ok && id.Ident == WALinkFunc {
			found = true
		}
	})
	return found
}
