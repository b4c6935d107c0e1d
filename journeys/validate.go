package journeys

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// Validate checks that j can run with the channels of reg. It reports
// every problem it finds, as ValidationErrors located by step and field
// path.
func (j Journey) Validate(reg *channels.Registry) error {
	v := &validator{reg: reg}
	if j.Name == "" {
		v.add("", "name", "is required")
	}
	switch j.Purpose {
	case Authentication, Utility, Marketing:
	default:
		v.add("", "purpose", "must be authentication, utility or marketing, not %q", j.Purpose)
	}
	params := v.params("params", j.Params)
	switch j.TierLimit {
	case "", TierLimitWait, TierLimitNextChannel:
	default:
		v.add("", "tier_limit", "must be %s or %s, not %q", TierLimitWait, TierLimitNextChannel, j.TierLimit)
	}
	for i, g := range j.Goal {
		if g == "" {
			v.add("", fmt.Sprintf("goal[%d]", i), "is empty")
		}
	}
	if q := j.QuietHours; q != nil {
		for _, f := range []struct{ name, val string }{{"start", q.Start}, {"end", q.End}} {
			if _, err := ParseClock(f.val); err != nil {
				v.add("", "quiet_hours."+f.name, "%v", err)
			}
		}
		if _, err := time.LoadLocation(q.TimeZone); err != nil {
			v.add("", "quiet_hours.timezone", "unknown time zone %q", q.TimeZone)
		}
	}
	if vf := j.Verify; vf != nil {
		if !slices.Contains(params, vf.Param) {
			v.add("", "verify.param", "%q is not one of the journey's params", vf.Param)
		}
		if vf.MaxAttempts < 0 {
			v.add("", "verify.max_attempts", "must not be negative")
		}
	}
	if len(j.Steps) == 0 && len(j.On) == 0 {
		v.add("", "steps", "a journey needs steps or on handlers")
	}
	v.steps("steps", j.Steps, params)
	events := map[string]bool{}
	for i, h := range j.On {
		path := fmt.Sprintf("on[%d]", i)
		if h.Event == "" {
			v.add("", path+".event", "is required")
		} else if events[h.Event] {
			v.add("", path+".event", "%q has an earlier handler", h.Event)
		}
		events[h.Event] = true
		scope := append(slices.Clone(params), v.params(path+".params", h.Params)...)
		v.steps(path+".steps", h.Steps, scope)
	}
	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

type validator struct {
	reg  *channels.Registry
	errs ValidationErrors
}

func (v *validator) add(step, path, format string, args ...any) {
	v.errs = append(v.errs, ValidationError{Step: step, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// params checks declared params and returns their names.
func (v *validator) params(path string, ps []Param) []string {
	var names []string
	for i, p := range ps {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case p.Name == "":
			v.add("", at, "a param needs a name")
		case slices.Contains(names, p.Name):
			v.add("", at, "param %q is declared twice", p.Name)
		}
		switch p.Type {
		case "", "string", "number", "url", "email":
		default:
			v.add("", at+".type", "unknown type %q (string, number, url or email)", p.Type)
		}
		if _, err := regexp.Compile(p.Pattern); err != nil {
			v.add("", at+".pattern", "bad pattern: %v", err)
		}
		names = append(names, p.Name)
	}
	return names
}

// steps checks one list of steps: each step, the ids that branches name,
// and that every step can be reached.
func (v *validator) steps(path string, steps []Step, params []string) {
	ids := map[string]int{}
	for i, s := range steps {
		if id := s.ID(); id != "" {
			if _, dup := ids[id]; dup {
				v.add(id, fmt.Sprintf("%s[%d]", path, i), "id %q is used by an earlier step", id)
			}
			ids[id] = i
		}
	}
	for i, s := range steps {
		at := fmt.Sprintf("%s[%d]", path, i)
		id := s.ID()
		if id == "" {
			id = fmt.Sprintf("%s[%d]", path, i)
		}
		kinds := 0
		for _, set := range []bool{s.Send != nil, s.Wait != nil, s.Branch != nil, s.Exit != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			v.add(id, at, "a step has exactly one kind: send, wait, branch or exit")
			continue
		}
		switch {
		case s.Send != nil:
			v.send(id, at+".send", s.Send, params)
		case s.Wait != nil:
			v.wait(id, at+".wait", s.Wait)
		case s.Branch != nil:
			v.branch(id, at+".branch", s.Branch, steps[:i], ids)
		case s.Exit != nil:
			switch s.Exit.Outcome {
			case "", "completed", "converted", "failed":
			default:
				v.add(id, at+".exit.outcome", "unknown outcome %q (completed, converted or failed)", s.Exit.Outcome)
			}
		}
	}
	reached := Reachable(steps)
	for i, s := range steps {
		if !reached[i] {
			v.add(s.ID(), fmt.Sprintf("%s[%d]", path, i), "is unreachable: an exit comes before it and no branch goes to it")
		}
	}
}

func (v *validator) send(id, path string, s *SendStep, params []string) {
	if len(s.Attempts) == 0 {
		v.add(id, path+".attempts", "at least one attempt is required")
	}
	switch s.OnFailure {
	case "", "exit", "continue":
	default:
		v.add(id, path+".on_failure", "must be exit or continue, not %q", s.OnFailure)
	}
	for k, a := range s.Attempts {
		v.attempt(id, fmt.Sprintf("%s.attempts[%d]", path, k), a, params)
	}
}

// attempt checks one attempt: its channel, its fields as its driver
// parses them, the templates in them, and what it awaits.
func (v *validator) attempt(id, at string, a Attempt, params []string) {
	if a.badWithin != "" {
		v.add(id, at+".within", "%s", a.badWithin)
	}
	d, ok := v.reg.Lookup(a.Channel)
	if !ok {
		v.add(id, at+".channel", "unknown channel %q (%s)", a.Channel, channelList(v.reg))
		return
	}
	c, err := d.Parse(a.Fields)
	var fe channels.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, e := range fe {
			if e.Unknown {
				e.Msg = fmt.Sprintf("is not a field of %s attempts", a.Channel)
			}
			v.add(id, at+e.Field, "%s", e.Msg)
		}
	case err != nil:
		v.add(id, at, "%v", err)
	}
	if c != nil {
		for _, t := range c.Texts() {
			err := checkTemplate(t.Text, params)
			if err == nil && t.HTML {
				err = checkHTML(t.Text, params)
			}
			if err != nil {
				v.add(id, at+t.Field, "%v", err)
			}
		}
	}
	switch await := a.AwaitOrDefault(); {
	case a.Await != "" && (!a.Await.Valid() || a.Await == channels.StatusFailed):
		v.add(id, at+".await", "unknown status %q (accepted, sent, delivered or read)", a.Await)
	case !channels.AllowsAwait(d, await):
		v.add(id, at+".await", "%s attempts may await only %s: its provider reports no %s", a.Channel, orList(d.Awaits()), await)
	}
}

func (v *validator) wait(id, path string, w *WaitStep) {
	switch {
	case (w.Duration > 0) == (w.Until != ""):
		v.add(id, path, "a wait has either a duration or an until event")
	case w.Until != "" && w.Timeout <= 0:
		v.add(id, path+".timeout", "a wait until %q needs a timeout", w.Until)
	case w.Until == "" && w.Timeout > 0:
		v.add(id, path+".timeout", "only a wait until an event has a timeout")
	}
	switch w.OnTimeout {
	case "", "continue", "exit":
	default:
		v.add(id, path+".on_timeout", "must be continue or exit, not %q", w.OnTimeout)
	}
}

func (v *validator) branch(id, path string, b *BranchStep, before []Step, ids map[string]int) {
	if (b.Event == "") == (b.Step == "") {
		v.add(id, path, "a branch tests either an event or an earlier step's outcome")
	}
	if b.Step != "" {
		earlier := slices.ContainsFunc(before, func(s Step) bool { return s.Send != nil && s.Send.ID == b.Step })
		if !earlier {
			v.add(id, path+".step", "%q is not an earlier send step", b.Step)
		}
		switch b.Outcome {
		case StepDelivered, StepRead, StepFailed, StepNoAnswer:
		default:
			v.add(id, path+".outcome", "must be delivered, read, failed or no_answer, not %q", b.Outcome)
		}
	} else if b.Outcome != "" || b.Channel != "" {
		v.add(id, path, "outcome and channel go with step, not with event")
	}
	if b.Payload != "" && b.Event == "" {
		v.add(id, path+".payload", "goes with event: it narrows the event to one with this payload")
	}
	if _, ok := v.reg.Lookup(b.Channel); b.Channel != "" && !ok {
		v.add(id, path+".channel", "unknown channel %q (%s)", b.Channel, channelList(v.reg))
	}
	if b.Then == "" {
		v.add(id, path+".then", "is required: the id of the step to go to")
	}
	for _, f := range []struct{ name, target string }{{"then", b.Then}, {"else", b.Else}} {
		if _, ok := ids[f.target]; f.target != "" && !ok {
			v.add(id, path+"."+f.name, "no step has id %q", f.target)
		}
	}
}

// Reachable reports, for each step of a list, whether a run can get to it:
// from the first step, each step leads to the next unless it is an exit,
// and a branch also leads to the steps it names.
func Reachable(steps []Step) []bool {
	ids := map[string]int{}
	for i, s := range steps {
		if id := s.ID(); id != "" {
			ids[id] = i
		}
	}
	reached := make([]bool, len(steps))
	queue := []int{0}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if i >= len(steps) || reached[i] {
			continue
		}
		reached[i] = true
		s := steps[i]
		if s.Exit == nil {
			queue = append(queue, i+1)
		}
		if b := s.Branch; b != nil {
			for _, t := range []string{b.Then, b.Else} {
				if n, ok := ids[t]; ok {
					queue = append(queue, n)
				}
			}
		}
	}
	return reached
}

// ParseClock parses a time of day written HH:MM and returns it as the
// duration since midnight.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
