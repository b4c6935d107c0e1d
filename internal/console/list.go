package console

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
)

// outcomes are the values of the SwitchbackOutcome search attribute that
// the journeys list filters on.
var outcomes = []journeys.Outcome{
	journeys.OutcomeRunning, journeys.OutcomeDelivered, journeys.OutcomeCompleted, journeys.OutcomeConverted,
	journeys.OutcomeVerified, journeys.OutcomeBlocked, journeys.OutcomeLocked, journeys.OutcomeFailed,
	journeys.OutcomeExpired, journeys.OutcomeCanceled,
}

// journeyNameForm is the form of a journey name the filter accepts
// besides the built-in ones (a deployed journey's).
var journeyNameForm = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// filterTime is the form of the time range's fields (an HTML
// datetime-local input), read as UTC.
const filterTime = "2006-01-02T15:04"

// journeyFilter is the journeys list's filter, read from its GET form. It
// holds journey, outcome and channel names and times only: nothing that
// names a person goes into its URL.
type journeyFilter struct {
	Journey, Outcome, Channel string
	// From and To bound the journeys' start times, inclusive (zero: no
	// bound).
	From, To time.Time
}

// FromText and ToText fill the form's time fields.
func (f journeyFilter) FromText() string { return formText(f.From) }

// ToText: see FromText.
func (f journeyFilter) ToText() string { return formText(f.To) }

func formText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(filterTime)
}

// parseFilter reads and checks the filter of q: each value must be one
// the list knows, so that the query holds nothing else.
func (c *Console) parseFilter(q url.Values) (journeyFilter, error) {
	f := journeyFilter{
		Journey: strings.TrimSpace(q.Get("journey")),
		Outcome: strings.TrimSpace(q.Get("outcome")),
		Channel: strings.TrimSpace(q.Get("channel")),
	}
	if err := checkJourneyName(f.Journey); err != nil {
		return f, err
	}
	if f.Outcome != "" && !slices.Contains(outcomes, journeys.Outcome(f.Outcome)) {
		return f, fmt.Errorf("outcome %q: want one of %s", f.Outcome, joinNames(outcomes))
	}
	if chs := c.opts.Channels.Channels(""); f.Channel != "" && !slices.ContainsFunc(chs, func(ch channels.Channel) bool { return string(ch) == f.Channel }) {
		return f, fmt.Errorf("channel %q: want one of %s", f.Channel, joinNames(chs))
	}
	var err error
	if f.From, err = parseFilterTime("from", q.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = parseFilterTime("to", q.Get("to")); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, fmt.Errorf("the time range ends (%s) before it begins (%s)", stamp(f.To), stamp(f.From))
	}
	return f, nil
}

// checkJourneyName returns an error unless name is "", a built-in
// journey or the name of one.
func checkJourneyName(name string) error {
	if name != "" && !slices.Contains(journeys.BuiltinNames(), name) && !journeyNameForm.MatchString(name) {
		return fmt.Errorf("journey %q: a journey name is lower-case letters, digits and _", name)
	}
	return nil
}

// joinNames joins names with commas.
func joinNames[S ~string](names []S) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

// parseFilterTime reads the time field name: a datetime-local value or
// RFC 3339, in UTC when it names no zone; "" is no bound.
func parseFilterTime(name, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{filterTime, filterTime + ":05", time.RFC3339, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time: want 2026-12-01T09:30 (UTC)", name, v)
}

// query returns the visibility query of f: journeys only, each value
// quoted.
func (f journeyFilter) query() string {
	terms := []string{"WorkflowType = " + quote(journeys.WorkflowType)}
	for _, t := range []struct{ attr, v string }{
		{journeys.JourneyAttr.GetName(), f.Journey},
		{journeys.OutcomeAttr.GetName(), f.Outcome},
		{journeys.ChannelAttr.GetName(), f.Channel},
	} {
		if t.v != "" {
			terms = append(terms, t.attr+" = "+quote(t.v))
		}
	}
	if !f.From.IsZero() {
		terms = append(terms, "StartTime >= "+quote(f.From.Format(time.RFC3339)))
	}
	if !f.To.IsZero() {
		terms = append(terms, "StartTime <= "+quote(f.To.Format(time.RFC3339)))
	}
	return strings.Join(terms, " AND ")
}

// queryEscaper escapes a visibility query's string literal.
var queryEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// quote returns s as a visibility query's string literal.
func quote(s string) string { return "'" + queryEscaper.Replace(s) + "'" }

// params returns the filter as the form's query parameters.
func (f journeyFilter) params() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"journey": f.Journey, "outcome": f.Outcome, "channel": f.Channel, "from": f.FromText(), "to": f.ToText()} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// journeysData is the journeys list.
type journeysData struct {
	Filter   journeyFilter
	Journeys []string
	Outcomes []journeys.Outcome
	Channels []channels.Channel
	// Query is the visibility query of the list, for the Web UI.
	Query string
	Rows  []journeyRow
	// NextURL is the next page's address ("" on the last page).
	NextURL string
}

// journeysList lists the journeys that the filter of the request selects,
// one page at a time.
func (c *Console) journeysList(w http.ResponseWriter, r *http.Request, who caller) {
	q := r.URL.Query()
	d := journeysData{Journeys: journeys.BuiltinNames(), Outcomes: outcomes, Channels: c.opts.Channels.Channels("")}
	f, err := c.parseFilter(q)
	d.Filter = f
	if err != nil {
		p := c.page(who, "Journeys", d)
		p.Error = "Filter refused: " + err.Error()
		c.render(w, http.StatusBadRequest, "journeys", p)
		return
	}
	d.Query = f.query()
	rows, next, err := c.visibilityPage(r.Context(), d.Query, q.Get("page"))
	d.Rows = rows
	if next != "" {
		nq := f.params()
		nq.Set("page", next)
		d.NextURL = Prefix + "/journeys?" + nq.Encode()
	}
	p := c.page(who, "Journeys", d)
	status := http.StatusOK
	switch {
	case errors.Is(err, errPageToken):
		p.Error, status = err.Error(), http.StatusBadRequest
	case err != nil:
		p.Error, status = err.Error(), http.StatusBadGateway
	}
	c.render(w, status, "journeys", p)
}

// visibilityPage lists one page of the journeys that query selects, in
// visibility's order (running first, then newest first), with the token
// of the next page ("" on the last).
func (c *Console) visibilityPage(ctx context.Context, query, pageToken string) ([]journeyRow, string, error) {
	token, err := base64.RawURLEncoding.DecodeString(pageToken)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", errPageToken, err)
	}
	resp, err := c.opts.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		PageSize:      int32(c.pageSize()),
		NextPageToken: token,
		Query:         query,
	})
	if err != nil {
		return nil, "", fmt.Errorf("list journeys: %w", err)
	}
	var rows []journeyRow
	for _, ex := range resp.GetExecutions() {
		attrs := ex.GetSearchAttributes()
		row := journeyRow{
			ID:      ex.GetExecution().GetWorkflowId(),
			Journey: keyword(attrs, journeys.JourneyAttr.GetName()),
			Outcome: keyword(attrs, journeys.OutcomeAttr.GetName()),
			Channel: keyword(attrs, journeys.ChannelAttr.GetName()),
			Contact: keyword(attrs, journeys.ContactAttr.GetName()),
			Start:   ex.GetStartTime().AsTime(),
		}
		if !validKey(row.Contact) {
			row.Contact = ""
		}
		if ct := ex.GetCloseTime(); ct != nil {
			row.Close = ct.AsTime()
		}
		rows = append(rows, row)
	}
	return rows, base64.RawURLEncoding.EncodeToString(resp.GetNextPageToken()), nil
}

// errPageToken is the error of a page token that is not one.
var errPageToken = errors.New("bad page token")

// pageSize is how many journeys a list shows at once.
func (c *Console) pageSize() int {
	if c.opts.PageSize > 0 {
		return c.opts.PageSize
	}
	return JourneysPerPage
}
