package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// page is what every template gets.
type page struct {
	Title string
	// Who is the caller's name; CSRF the token of the caller's forms.
	Who, CSRF string
	// Error, when set, is shown above the page's content.
	Error string
	// Notice, when set, says what an action did.
	Notice string
	Data   any
}

// page returns a page for who.
func (c *Console) page(who caller, title string, data any) page {
	return page{Title: title, Who: who.who, CSRF: c.sess.csrf(who.sess), Data: data}
}

var funcs = template.FuncMap{
	"stamp": stamp,
	"since": func(t, start time.Time) string { return "+" + t.Sub(start).Round(time.Millisecond).String() },
	"path":  url.PathEscape,
	// latency formats a delivery latency of the reports page.
	"latency": percentileText,
}

// stamp formats t for people, in UTC; the zero time is "-".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// parsePages parses each page template of templates/ with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes the page name with status; a template that fails answers
// 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console render", "page", name, "error", err)
		http.Error(w, "The page could not be drawn; the log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail renders an error page for who.
func (c *Console) fail(w http.ResponseWriter, who caller, status int, msg string) {
	p := c.page(who, "Error", nil)
	p.Error = msg
	c.render(w, status, "error", p)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
