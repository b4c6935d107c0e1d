package journeys

import "github.com/switchbackhq/switchback/channels"

// Templates returns the provider templates the journey's attempts name, in
// its steps and its handlers', each once, in order of appearance. Only
// names and languages are read: templated parameters stay unrendered.
// Attempts whose fields reg's drivers do not parse name none (validation
// reports them).
func (j Journey) Templates(reg *channels.Registry) []channels.Template {
	lists := [][]Step{j.Steps}
	for _, h := range j.On {
		lists = append(lists, h.Steps)
	}
	var out []channels.Template
	seen := map[[2]string]bool{}
	for _, steps := range lists {
		for _, s := range steps {
			if s.Send == nil {
				continue
			}
			for _, a := range s.Send.Attempts {
				_, c, err := a.Content(reg)
				if err != nil {
					continue
				}
				msg := channels.Message{Channel: a.Channel}
				if c.Render(verbatim{}, &msg) != nil || msg.Template == nil {
					continue
				}
				k := [2]string{msg.Template.Name, msg.Template.Language}
				if !seen[k] {
					seen[k] = true
					out = append(out, channels.Template{Name: k[0], Language: k[1]})
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
