package console

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchbackhq/switchback/internal/report"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
)

// reportFilter is the reports page's filter, read from its GET form: a
// journey name and a time range, nothing that names a person.
type reportFilter struct {
	// Journey, Since and Until are the form's values as typed.
	Journey, Since, Until string
	// Report is what they select.
	Report report.Filter
}

// params returns f as a query string ("" when f selects everything).
func (f reportFilter) params() string {
	q := url.Values{}
	for k, v := range map[string]string{"journey": f.Journey, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// parseReportFilter reads q: since takes what `report --since` takes (24h,
// 7d, a date, RFC 3339) and the form's datetime-local value; until a
// datetime-local value, a date or RFC 3339. Times without a zone are UTC.
func (c *Console) parseReportFilter(q url.Values) (reportFilter, error) {
	f := reportFilter{
		Journey: strings.TrimSpace(q.Get("journey")),
		Since:   strings.TrimSpace(q.Get("since")),
		Until:   strings.TrimSpace(q.Get("until")),
	}
	f.Report.Journey = f.Journey
	if err := checkJourneyName(f.Journey); err != nil {
		return f, err
	}
	var err error
	if f.Report.Since, err = report.ParseSince(f.Since, c.opts.Now()); err != nil {
		if f.Report.Since, err = parseFilterTime("since", f.Since); err != nil {
			return f, fmt.Errorf("since %q: want a duration (24h, 7d), a date or a time (2026-12-01T09:30, UTC)", f.Since)
		}
	}
	if f.Report.Until, err = parseFilterTime("until", f.Until); err != nil {
		return f, err
	}
	if s, u := f.Report.Since, f.Report.Until; !s.IsZero() && !u.IsZero() && !u.After(s) {
		return f, fmt.Errorf("the time range ends (%s) before it begins (%s)", stamp(u), stamp(s))
	}
	return f, nil
}

// reportsData is the reports page.
type reportsData struct {
	Filter   reportFilter
	Journeys []string
	// Rows are the report's rows with their pictures.
	Rows []reportRow
	// Fallbacks draws the fallbacks of every row by reason class.
	Fallbacks chart
	Latencies []report.Latency
	Failures  []report.Failure
	// Templates are the registry's templates; TemplatesOff says why there
	// are none.
	Templates    []templates.Template
	TemplatesOff string
	// CSVURL downloads the same rows as `report --csv`.
	CSVURL string
}

// reportRow is one row of the report.
type reportRow struct {
	store.ReportRow
	// Funnel draws sent → delivered → read → replied → converted.
	Funnel chart
	// FallbackRates says each reason class's fallbacks, and their share
	// of the messages sent: "timeout 2 (40%)".
	FallbackRates []string
	// FailedCodes is the failures by code, as in the CSV.
	FailedCodes string
}

// reports shows the report of the filter's events.
func (c *Console) reports(w http.ResponseWriter, r *http.Request, who caller) {
	d := &reportsData{Journeys: journeys.BuiltinNames()}
	p := c.page(who, "Reports", d)
	f, err := c.parseReportFilter(r.URL.Query())
	d.Filter = f
	if err != nil {
		p.Error = err.Error()
		c.render(w, http.StatusBadRequest, "reports", p)
		return
	}
	events, err := c.opts.Store.Events(r.Context(), f.Report.EventFilter())
	if err != nil {
		p.Error = "Reading the message events: " + err.Error()
		c.render(w, http.StatusInternalServerError, "reports", p)
		return
	}
	events = f.Report.Within(events)
	rows := report.Rows(events, report.Filter{Journey: f.Report.Journey})
	d.CSVURL = Prefix + "/reports.csv"
	if q := f.params(); q != "" {
		d.CSVURL += "?" + q
	}
	d.Rows, d.Fallbacks = reportRows(rows)
	kept := keptEvents(events, f.Journey)
	d.Latencies, d.Failures = report.Latencies(kept), report.Failures(kept)
	d.Templates, d.TemplatesOff = c.reportTemplates(r)
	c.render(w, http.StatusOK, "reports", p)
}

// reportsCSV answers the filter's rows as `report --csv` writes them.
func (c *Console) reportsCSV(w http.ResponseWriter, r *http.Request, _ caller) {
	f, err := c.parseReportFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	events, err := c.opts.Store.Events(r.Context(), f.Report.EventFilter())
	if err != nil {
		c.log.Error("console report CSV", "error", err)
		http.Error(w, "Reading the message events failed; the log says why.", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, report.Rows(events, f.Report)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="switchback-report.csv"`)
	w.Write(buf.Bytes())
}

// keptEvents returns the events of journey: all of them when it is "";
// otherwise the events of the messages that one of its events names, so
// that statuses recorded without their journey count.
func keptEvents(events []store.MessageEvent, journey string) []store.MessageEvent {
	if journey == "" {
		return events
	}
	msgs := map[[2]string]bool{}
	for _, e := range events {
		if e.Journey == journey {
			msgs[[2]string{e.Provider, e.MessageID}] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(events), func(e store.MessageEvent) bool {
		return !msgs[[2]string{e.Provider, e.MessageID}]
	})
}

// reportTemplates returns the registry's templates, or why there are
// none.
func (c *Console) reportTemplates(r *http.Request) ([]templates.Template, string) {
	if c.opts.Templates == nil {
		return nil, "This console has no template registry."
	}
	ts, _, err := c.opts.Templates.List(r.Context())
	if err != nil {
		return nil, "Reading the template registry: " + err.Error()
	}
	return ts, ""
}

// reportRows adds the pictures to rows, and draws the fallbacks of all of
// them by reason class.
func reportRows(rows []store.ReportRow) ([]reportRow, chart) {
	out := make([]reportRow, len(rows))
	total := map[store.ReasonClass]int{}
	sent := 0
	for i, r := range rows {
		out[i] = reportRow{ReportRow: r, FailedCodes: report.Breakdown(r.Failed),
			Funnel: barChart([]string{"sent", "delivered", "read", "replied", "converted"},
				[]int{r.Sent, r.Delivered, r.Read, r.Replies, r.Conversions}, r.Sent)}
		for _, class := range slices.Sorted(maps.Keys(r.FallbacksBy)) {
			out[i].FallbackRates = append(out[i].FallbackRates, string(class)+" "+count(r.FallbacksBy[class], r.Sent))
			total[class] += r.FallbacksBy[class]
		}
		sent += r.Sent
	}
	classes := slices.Sorted(maps.Keys(total))
	labels := make([]string, len(classes))
	counts := make([]int, len(classes))
	for i, class := range classes {
		labels[i], counts[i] = string(class), total[class]
	}
	return out, barChart(labels, counts, sent)
}

// count writes n and, when of is not zero, its share of it: "2 (40%)".
func count(n, of int) string {
	if of == 0 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d (%d%%)", n, n*100/of)
}

// chart is a horizontal bar chart for an inline SVG.
type chart struct {
	Width, Height int
	Bars          []bar
}

// bar is one bar of a chart.
type bar struct {
	Label string
	// Y is the bar's top; W its width; Text its count and share, drawn at
	// TextX.
	Y, W, TextX int
	Text        string
}

// Layout of bar charts, in pixels.
const (
	chartLabel = 100
	chartBar   = 260
	chartRow   = 22
	chartText  = 110
)

// barChart draws counts, labelled, as bars as long as their share of the
// largest count; each bar's text gives its share of base.
func barChart(labels []string, counts []int, base int) chart {
	c := chart{Width: chartLabel + chartBar + chartText, Height: len(counts) * chartRow}
	most := cmp.Or(slices.Max(append([]int{0}, counts...)), 1)
	for i, n := range counts {
		w := n * chartBar / most
		c.Bars = append(c.Bars, bar{Label: labels[i], Y: i * chartRow, W: w, TextX: chartLabel + w + 6, Text: count(n, base)})
	}
	return c
}

// percentileText formats a latency for the page.
func percentileText(d time.Duration) string {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
