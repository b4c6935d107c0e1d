package journeys

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

// Validate checks that j can run. It reports every problem it finds, as
// ValidationErrors located by step and field path.
func (j Journey) Validate() error {
	v := &validator{}
	if j.Name == "" {
		v.add("", "name", "is required")
	}
	switch j.Purpose {
	case Authentication, Utility, Marketing:
	default:
		v.add("", "purpose", "must be authentication, utility or marketing, not %q", j.Purpose)
	}
	params := v.params("params", j.Params)
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
		at := fmt.Sprintf("%s.attempts[%d]", path, k)
		for _, p := range a.problems() {
			v.add(id, at+p.field, "%s", p.text)
		}
		if a.Await != "" && (!a.Await.Valid() || a.Await == channels.StatusFailed) {
			v.add(id, at+".await", "unknown status %q (accepted, sent, delivered or read)", a.Await)
		}
		for _, t := range a.texts() {
			err := checkTemplate(t.text, params)
			if err == nil && t.field == ".html" {
				err = checkHTML(t.text, params)
			}
			if err != nil {
				v.add(id, at+t.field, "%v", err)
			}
		}
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
	if b.Channel != "" && !b.Channel.Valid() {
		v.add(id, path+".channel", "unknown channel %q", b.Channel)
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

type problem struct{ field, text string }

// problems checks that the attempt's content suits its channel.
func (a Attempt) problems() []problem {
	var ps []problem
	t := a.Template
	switch a.Channel {
	case channels.WhatsApp:
		if t == nil && a.Session == "" {
			ps = append(ps, problem{"", "a whatsapp attempt needs a template or session text (both: the template goes when the 24-hour window is closed)"})
		}
		if t != nil {
			if t.Name == "" {
				ps = append(ps, problem{".template.name", "is required"})
			}
			if t.Language == "" {
				ps = append(ps, problem{".template.language", "is required (e.g. en_US)"})
			}
			if t.ID != "" || len(t.Data) > 0 {
				ps = append(ps, problem{".template", "id and data belong to email templates"})
			}
			if h := t.Header; h != nil && countSet(h.Text, h.Image, h.Document, h.Video) != 1 {
				ps = append(ps, problem{".template.header", "a header has exactly one of text, image, document and video"})
			}
			for i, b := range t.Buttons {
				if countSet(b.QuickReply, b.URL) != 1 || b.Index < 0 || b.Index > 9 {
					ps = append(ps, problem{fmt.Sprintf(".template.buttons[%d]", i), "a button has an index from 0 to 9 and exactly one of quick_reply and url"})
				}
			}
		}
		if a.Text != "" || a.Subject != "" || a.HTML != "" {
			ps = append(ps, problem{"", "whatsapp takes a template or session text; text, subject and html belong to sms and email"})
		}
	case channels.SMS:
		if a.Text == "" {
			ps = append(ps, problem{".text", "an sms attempt needs text"})
		}
		if t != nil || a.Session != "" || a.Subject != "" || a.HTML != "" {
			ps = append(ps, problem{"", "sms sends text only"})
		}
	case channels.Email:
		switch {
		case t != nil && (t.ID == "" || t.Name != "" || len(t.Body) > 0 || len(t.ButtonURL) > 0):
			ps = append(ps, problem{".template", "an email template has an id (d-...) and data only"})
		case t == nil && (a.Subject == "" || (a.Text == "" && a.HTML == "")):
			ps = append(ps, problem{"", "an email attempt needs a template id, or a subject and a text or html body"})
		}
		if a.Session != "" {
			ps = append(ps, problem{".session", "session text is for whatsapp"})
		}
	default:
		ps = append(ps, problem{".channel", fmt.Sprintf("unknown channel %q (whatsapp, sms or email)", a.Channel)})
	}
	return ps
}

type fieldText struct{ field, text string }

// texts lists the attempt's text templates with the fields they come from.
func (a Attempt) texts() []fieldText {
	var ts []fieldText
	for _, f := range []fieldText{{".session", a.Session}, {".text", a.Text}, {".subject", a.Subject}, {".html", a.HTML}} {
		if f.text != "" {
			ts = append(ts, f)
		}
	}
	if t := a.Template; t != nil {
		for i, s := range t.Body {
			ts = append(ts, fieldText{fmt.Sprintf(".template.body[%d]", i), s})
		}
		for i, s := range t.ButtonURL {
			ts = append(ts, fieldText{fmt.Sprintf(".template.button_url[%d]", i), s})
		}
		for _, k := range sortedKeys(t.Data) {
			ts = append(ts, fieldText{".template.data." + k, t.Data[k]})
		}
		if h := t.Header; h != nil {
			for _, f := range []fieldText{{".template.header.text", h.Text}, {".template.header.image", h.Image},
				{".template.header.document", h.Document}, {".template.header.video", h.Video}} {
				if f.text != "" {
					ts = append(ts, f)
				}
			}
		}
		for i, b := range t.Buttons {
			ts = append(ts, fieldText{fmt.Sprintf(".template.buttons[%d]", i), b.QuickReply + b.URL})
		}
	}
	return ts
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
