package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchbackhq/switchback/journeys"
)

// journeyData is the journey page.
type journeyData struct {
	ID       string
	Journey  string
	Status   string
	Running  bool
	Contact  string
	Start    time.Time
	Timeline journeys.Timeline
	Picture  picture
	// UIURL links to the workflow in the Temporal Web UI ("" for none).
	UIURL string
	// EventName and EventVars refill the event form after a refusal.
	EventName, EventVars string
}

// notices are what a journey page says after an action (its ?done=).
var notices = map[string]string{
	"cancel": "Cancellation requested: the journey stops its pending sends and waits.",
	"event":  "Event sent.",
}

// journey shows a journey's timeline.
func (c *Console) journey(w http.ResponseWriter, r *http.Request, who caller) {
	d, status, err := c.journeyData(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, who, status, err.Error())
		return
	}
	p := c.page(who, "Journey "+d.ID, d)
	p.Notice = notices[r.URL.Query().Get("done")]
	c.render(w, http.StatusOK, "journey", p)
}

// journeyData describes the journey id and reads its timeline; on an
// error, the status to answer with.
func (c *Console) journeyData(ctx context.Context, id string) (journeyData, int, error) {
	d := journeyData{ID: id}
	desc, err := c.opts.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return d, http.StatusNotFound, fmt.Errorf("no journey %q: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != journeys.WorkflowType {
		return d, http.StatusNotFound, fmt.Errorf("workflow %q is not a journey", id)
	}
	attrs := info.GetSearchAttributes()
	d.Journey = keyword(attrs, journeys.JourneyAttr.GetName())
	d.Contact = keyword(attrs, journeys.ContactAttr.GetName())
	d.Running = info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	d.Status = strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
	d.Start = info.GetStartTime().AsTime()
	if d.Timeline, err = journeys.ReadTimeline(ctx, c.opts.Client, c.opts.Store, id); err != nil {
		return d, http.StatusBadGateway, err
	}
	d.Picture = drawTimeline(d.Timeline, c.opts.Channels.Channels(""))
	if base := strings.TrimSuffix(c.opts.TemporalUIURL, "/"); base != "" {
		d.UIURL = base + "/namespaces/" + url.PathEscape(c.opts.Namespace) + "/workflows/" + url.PathEscape(id)
	}
	return d, http.StatusOK, nil
}

// confirmCancel asks whether to cancel the journey.
func (c *Console) confirmCancel(w http.ResponseWriter, r *http.Request, who caller) {
	id := r.PathValue("id")
	c.render(w, http.StatusOK, "cancel", c.page(who, "Cancel "+id, journeyData{ID: id}))
}

// cancel cancels the journey, and logs who did.
func (c *Console) cancel(w http.ResponseWriter, r *http.Request, who caller) {
	id := r.PathValue("id")
	if err := journeys.Cancel(r.Context(), c.opts.Client, id); err != nil {
		c.log.Warn("console cancel failed", "who", who.who, "workflow_id", id, "error", err)
		c.fail(w, who, http.StatusConflict, err.Error())
		return
	}
	c.action(who, "cancel", "workflow_id", id)
	http.Redirect(w, r, Prefix+"/journeys/"+url.PathEscape(id)+"?done=cancel", http.StatusSeeOther)
}

// sendEvent sends an event to the journey. An event whose handler needs
// params it lacks is refused at once, with the journey's own words.
func (c *Console) sendEvent(w http.ResponseWriter, r *http.Request, who caller) {
	id := r.PathValue("id")
	name, rawVars := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("vars")
	ev, err := parseEvent(name, rawVars)
	if err == nil {
		err = c.checkEvent(r.Context(), id, ev)
	}
	if err == nil {
		err = journeys.Signal(r.Context(), c.opts.Client, id, ev)
	}
	if err != nil {
		d, status, derr := c.journeyData(r.Context(), id)
		if derr != nil {
			c.fail(w, who, status, derr.Error())
			return
		}
		d.EventName, d.EventVars = name, rawVars
		p := c.page(who, "Journey "+id, d)
		p.Error = "Event not sent: " + err.Error()
		c.render(w, http.StatusUnprocessableEntity, "journey", p)
		return
	}
	// The vars may hold personal data: the log names only the event.
	c.action(who, "event", "workflow_id", id, "event", ev.Name)
	http.Redirect(w, r, Prefix+"/journeys/"+url.PathEscape(id)+"?done=event", http.StatusSeeOther)
}

// checkEvent returns the journey's refusal of ev (Journey.CheckEvent),
// reading the journey's definition from its start.
func (c *Console) checkEvent(ctx context.Context, id string, ev journeys.EventInput) error {
	started, err := journeys.ReadStart(ctx, c.opts.Client, c.opts.DataConverter, id)
	if err != nil {
		return err
	}
	return started.Input.Journey.CheckEvent(ev)
}

// parseEvent reads an event form: a name, and vars one NAME=VALUE a line.
func parseEvent(name, vars string) (journeys.EventInput, error) {
	if name == "" {
		return journeys.EventInput{}, errors.New("give the event a name")
	}
	ev := journeys.EventInput{Name: name}
	sc := bufio.NewScanner(strings.NewReader(vars))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return journeys.EventInput{}, fmt.Errorf("vars line %d: want NAME=VALUE", line)
		}
		if ev.Vars == nil {
			ev.Vars = map[string]string{}
		}
		ev.Vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return ev, nil
}
