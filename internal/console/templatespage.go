package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchbackhq/switchback/templates"
)

// NoTemplateSync is what the templates page says when WhatsApp is not
// configured (Options.TemplateSync nil).
const NoTemplateSync = "Sync is unavailable: WhatsApp is not configured. Set WHATSAPP_ACCESS_TOKEN, WHATSAPP_WABA_ID and the other WHATSAPP_* variables, then restart (under `switchback dev` the sandbox's templates sync here)."

// templatesData is the templates page.
type templatesData struct {
	Templates []templates.Template
	// SyncedAt is when the registry was last synced (zero: never).
	SyncedAt time.Time
	// Account is the WhatsApp Business Account a sync reads.
	Account string
	// SyncOff says why there is no sync action ("" when there is one).
	SyncOff string
}

// templatesPage shows the template registry and its sync action.
func (c *Console) templatesPage(w http.ResponseWriter, r *http.Request, who caller) {
	p, status := c.templatesPageData(r, who)
	if n, err := strconv.Atoi(r.URL.Query().Get("synced")); err == nil && p.Error == "" {
		p.Notice = fmt.Sprintf("Synced %d templates.", n)
	}
	c.render(w, status, "templates", p)
}

// templatesPageData reads the registry into a page, and the status to
// answer with.
func (c *Console) templatesPageData(r *http.Request, who caller) (page, int) {
	d := templatesData{SyncOff: NoTemplateSync}
	if s := c.opts.TemplateSync; s != nil {
		d.SyncOff, d.Account = "", s.WABAID
	}
	p := c.page(who, "Templates", &d)
	if c.opts.Templates == nil {
		p.Error = "This console has no template registry."
		return p, http.StatusServiceUnavailable
	}
	var err error
	if d.Templates, d.SyncedAt, err = c.opts.Templates.List(r.Context()); err != nil {
		p.Error = err.Error()
		return p, http.StatusInternalServerError
	}
	return p, http.StatusOK
}

// syncTemplates replaces the registry with the account's templates, and
// logs who did it.
func (c *Console) syncTemplates(w http.ResponseWriter, r *http.Request, who caller) {
	s := c.opts.TemplateSync
	if s == nil || c.opts.Templates == nil {
		p, _ := c.templatesPageData(r, who)
		p.Error = NoTemplateSync
		c.render(w, http.StatusConflict, "templates", p)
		return
	}
	n, err := templates.Sync(r.Context(), *s, c.opts.Templates)
	if err != nil {
		c.log.Warn("console template sync failed", "who", who.who, "waba_id", s.WABAID, "error", err)
		p, _ := c.templatesPageData(r, who)
		p.Error = "Sync failed: " + err.Error()
		c.render(w, http.StatusBadGateway, "templates", p)
		return
	}
	c.action(who, "sync templates", "waba_id", s.WABAID, "templates", n)
	http.Redirect(w, r, Prefix+"/templates?synced="+strconv.Itoa(n), http.StatusSeeOther)
}
