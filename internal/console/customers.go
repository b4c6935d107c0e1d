package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/activities"
	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/internal/logging"
	"github.com/switchbackhq/switchback/internal/phone"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// JourneysPerPage is how many journeys a customer page lists at once.
const JourneysPerPage = 20

// findCustomer resolves a number or an email typed into the search form
// to the customer's page. The form is a POST, so that the number never
// appears in a URL, a browser's history or an access log.
func (c *Console) findCustomer(w http.ResponseWriter, r *http.Request, who caller) {
	key, err := c.contactKey(r.Context(), r.PostFormValue("q"))
	if err != nil {
		p := c.page(who, "Find a customer", nil)
		p.Error = err.Error()
		c.render(w, http.StatusUnprocessableEntity, "home", p)
		return
	}
	http.Redirect(w, r, Prefix+"/customers/"+key, http.StatusSeeOther)
}

// contactKey returns the contact key of q, a phone number in any usual
// form or an email address. An email address finds the contact whose
// record holds it (journeys are keyed by number); an address no contact
// holds gives its own key, under which its suppressions are kept.
func (c *Console) contactKey(ctx context.Context, q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", errors.New("type a phone number (e.g. +15551234567) or an email address")
	}
	if strings.Contains(q, "@") {
		addr := store.NormalEmail(q)
		ct, err := c.opts.Store.ContactByEmail(ctx, addr)
		switch {
		case err == nil:
			return ct.Key, nil
		case errors.Is(err, store.ErrNotFound):
			return journeys.ContactKey(c.opts.ContactKey, addr), nil
		default:
			return "", fmt.Errorf("find the contact of the email address: %w", err)
		}
	}
	n, err := phone.Normalize(q)
	if err != nil {
		return "", fmt.Errorf("not a phone number or an email address: %w", err)
	}
	return journeys.ContactKey(c.opts.ContactKey, n), nil
}

// customerData is the customer page.
type customerData struct {
	Key string
	// Known says the store has a record of the contact.
	Known   bool
	Contact store.Contact
	// NumberFrom is the journey whose start gave the number, when the
	// store has no record of the contact.
	NumberFrom string
	Revealed   bool
	Consent    []store.Consent
	Suppress   []store.Suppression
	Channels   []channelRow
	Journeys   []journeyRow
	// Next is the visibility page token of the next page, if any.
	Next string
	// ListError says why the journeys could not be listed.
	ListError string
}

// Masked returns the contact's number masked as every log line masks it
// (+1555•••••67).
func (d customerData) Masked() string { return logging.Mask(d.Contact.Number) }

// MaskedEmail returns the contact's email with its local part hidden.
func (d customerData) MaskedEmail() string { return logging.Mask(d.Contact.Email) }

// channelRow is one channel of a contact.
type channelRow struct {
	Channel      channels.Channel
	LastInbound  time.Time
	Window       string
	Reachability string
}

// journeyRow is one journey of a contact, as visibility lists it.
type journeyRow struct {
	ID, Journey, Outcome, Channel string
	// Contact is the contact key (empty if it has not that form).
	Contact      string
	Start, Close time.Time
}

// customer shows a contact.
func (c *Console) customer(w http.ResponseWriter, r *http.Request, who caller) {
	c.showCustomer(w, r, who, false)
}

// reveal shows a contact with the number in clear, and logs who asked.
func (c *Console) reveal(w http.ResponseWriter, r *http.Request, who caller) {
	c.action(who, "reveal number", "contact_key", r.PathValue("key"))
	c.showCustomer(w, r, who, true)
}

func (c *Console) showCustomer(w http.ResponseWriter, r *http.Request, who caller, reveal bool) {
	key := r.PathValue("key")
	if !validKey(key) {
		c.fail(w, who, http.StatusNotFound, "That is not a contact key.")
		return
	}
	d, err := c.customerData(r.Context(), key, r.FormValue("page"))
	if err != nil {
		c.log.Error("console customer page", "contact_key", key, "error", err)
		c.fail(w, who, http.StatusInternalServerError, "The store could not be read: "+err.Error())
		return
	}
	d.Revealed = reveal
	c.render(w, http.StatusOK, "customer", c.page(who, "Customer", d))
}

// validKey reports whether key has the form of a contact key: lower-case
// hex, so that it is safe in a visibility query.
func validKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for _, r := range key {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// customerData reads everything the store and visibility know of the
// contact key.
func (c *Console) customerData(ctx context.Context, key, pageToken string) (customerData, error) {
	st := c.opts.Store
	d := customerData{Key: key, Contact: store.Contact{Key: key}}
	ct, err := st.Contact(ctx, key)
	switch {
	case err == nil:
		d.Known, d.Contact = true, ct
	case !errors.Is(err, store.ErrNotFound):
		return d, err
	}
	if d.Consent, err = st.ConsentHistory(ctx, key); err != nil {
		return d, err
	}
	keys := []string{key}
	if d.Contact.Email != "" {
		// Email suppressions are kept under the address's own key.
		keys = append(keys, journeys.ContactKey(c.opts.ContactKey, store.NormalEmail(d.Contact.Email)))
	}
	for _, k := range keys {
		sups, err := st.Suppressions(ctx, k)
		if err != nil {
			return d, err
		}
		d.Suppress = append(d.Suppress, sups...)
	}
	if d.Channels, err = c.channelRows(ctx, key); err != nil {
		return d, err
	}
	d.Journeys, d.Next, err = c.listJourneys(ctx, key, pageToken)
	if err != nil {
		d.ListError = err.Error()
	}
	if d.Contact.Number == "" && len(d.Journeys) > 0 {
		c.numberFromJourney(ctx, &d)
	}
	return d, nil
}

// numberFromJourney fills in the number (and email) of a contact that the
// store has no record of from the start of its newest journey listed,
// decrypted with the codec's keys.
func (c *Console) numberFromJourney(ctx context.Context, d *customerData) {
	id := d.Journeys[0].ID
	started, err := journeys.ReadStart(ctx, c.opts.Client, c.opts.DataConverter, id)
	if err != nil {
		c.log.Warn("console: read the number of a contact from its journey", "workflow_id", id, "error", err)
		return
	}
	in := started.Input
	if journeys.ContactKey(c.opts.ContactKey, in.To) != d.Key {
		return
	}
	d.Contact.Number, d.NumberFrom = in.To, id
	if d.Contact.Email == "" {
		d.Contact.Email = in.Email
	}
}

// channelRows returns what is known of each of the registry's channels.
func (c *Console) channelRows(ctx context.Context, key string) ([]channelRow, error) {
	st := c.opts.Store
	reach, err := st.Reachabilities(ctx, key)
	if err != nil {
		return nil, err
	}
	now := c.opts.Now()
	var rows []channelRow
	for _, ch := range c.opts.Channels.Channels("") {
		row := channelRow{Channel: ch, Reachability: "unknown", Window: "-"}
		if ch == channels.WhatsApp {
			row.Window = "closed"
		}
		t, err := st.LastInbound(ctx, key, ch)
		switch {
		case err == nil:
			row.LastInbound = t
			if end := t.Add(activities.ServiceWindow); ch == channels.WhatsApp && now.Before(end) {
				row.Window = "open until " + stamp(end)
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		for _, rc := range reach {
			if rc.Channel != ch {
				continue
			}
			row.Reachability = "reachable (" + stamp(rc.At) + ")"
			if !rc.Reachable {
				row.Reachability = strings.TrimSpace("unreachable: "+rc.Code+" "+rc.Reason) + " (" + stamp(rc.At) + ")"
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// listJourneys lists one page of the contact's journeys, running first,
// then by time, newest first (visibility's order), with the token of the
// next page.
func (c *Console) listJourneys(ctx context.Context, key, pageToken string) ([]journeyRow, string, error) {
	return c.visibilityPage(ctx, journeys.ContactAttr.GetName()+" = "+quote(key), pageToken)
}

// keyword returns a Keyword search attribute's value. Search attributes
// are never encoded by a codec: the default converter reads them.
func keyword(attrs *common.SearchAttributes, name string) string {
	var s string
	if p, ok := attrs.GetIndexedFields()[name]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}
