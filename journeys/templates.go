package journeys

import "github.com/switchbackhq/switchback/channels"

// Templates returns the provider templates the journey's attempts name, in
// its steps and its handlers', each once, in order of appearance. Only
// names and languages are read: templated parameters stay unrendered.
// Attempts whose fields reg's drivers do not parse name none (validation
// reports them).
func (j Journey) Templates(reg *channels.Registry) []channels.Template {
	var out []channels.Template
	seen := map[[2]string]bool{}
	for _, c := range j.contents(reg) {
		msg := channels.Message{Channel: c.channel}
		if c.Render(verbatim{}, &msg) != nil || msg.Template == nil {
			continue
		}
		k := [2]string{msg.Template.Name, msg.Template.Language}
		if !seen[k] {
			seen[k] = true
			out = append(out, channels.Template{Name: k[0], Language: k[1]})
		}
	}
	return out
}

// attemptContent is an attempt's parsed content and its channel.
type attemptContent struct {
	channels.Content
	channel channels.Channel
}

// contents returns the parsed content of every attempt of the journey, in
// its steps and its handlers', in order. Attempts whose fields reg's
// drivers do not parse are left out: validation reports them.
func (j Journey) contents(reg *channels.Registry) []attemptContent {
	lists := [][]Step{j.Steps}
	for _, h := range j.On {
		lists = append(lists, h.Steps)
	}
	var out []attemptContent
	for _, steps := range lists {
		for _, s := range steps {
			if s.Send == nil {
				continue
			}
			for _, a := range s.Send.Attempts {
				if _, c, err := a.Content(reg); err == nil {
					out = append(out, attemptContent{c, a.Channel})
				}
			}
		}
	}
	return out
}

// verbatim renders every field as written.
type verbatim struct{}

func (verbatim) Text(_, text string) string { return text }
func (verbatim) HTML(_, text string) string { return text }
