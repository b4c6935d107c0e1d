package diagram

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
)

// testChannels are the channels the diagrams draw.
var testChannels = channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{})

// node is an element of a parsed picture.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// hasClass reports whether n is a tag element of class c.
func (n node) hasClass(tag, c string) bool {
	return n.XMLName.Local == tag && slices.Contains(strings.Fields(n.attr("class")), c)
}

// all returns the elements under n, n included, in document order, that
// keep says to.
func (n node) all(keep func(node) bool) []node {
	var out []node
	if keep(n) {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.all(keep)...)
	}
	return out
}

// text returns every text under n, joined by spaces.
func (n node) text() string {
	parts := []string{strings.TrimSpace(n.Text)}
	for _, c := range n.Nodes {
		parts = append(parts, c.text())
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// parse parses a picture, failing the test when it is not well-formed.
func parse(t *testing.T, svg []byte) node {
	t.Helper()
	var root node
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("the picture is not well-formed XML: %v\n%s", err, svg)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v, want svg in the SVG namespace", root.XMLName)
	}
	return root
}

func steps(n node) []node { return n.all(func(c node) bool { return c.hasClass("g", "step") }) }

// allSteps lists the journey's steps, then its handlers', in order.
func allSteps(j journeys.Journey) []journeys.Step {
	out := slices.Clone(j.Steps)
	for _, h := range j.On {
		out = append(out, h.Steps...)
	}
	return out
}

func TestBuiltinsDrawEveryStepAndAttempt(t *testing.T) {
	for _, name := range journeys.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			j, err := journeys.Builtin(name, testChannels)
			if err != nil {
				t.Fatal(err)
			}
			svg := SVG(j, Options{Channels: testChannels})
			if again := SVG(j, Options{Channels: testChannels}); !bytes.Equal(svg, again) {
				t.Fatal("two pictures of the same journey differ")
			}
			root := parse(t, svg)
			want := allSteps(j)
			got := steps(root)
			if len(got) != len(want) {
				t.Fatalf("%d step groups, want %d", len(got), len(want))
			}
			for i, s := range want {
				g := got[i]
				if g.attr("data-step") != s.ID() {
					t.Errorf("step group %d is %q, want %q", i, g.attr("data-step"), s.ID())
				}
				if !strings.Contains(g.text(), s.ID()) {
					t.Errorf("step %s: its group does not name it: %q", s.ID(), g.text())
				}
				if s.Send == nil {
					continue
				}
				attempts := g.all(func(c node) bool { return c.hasClass("g", "attempt") })
				if len(attempts) != len(s.Send.Attempts) {
					t.Fatalf("step %s: %d attempts drawn, want %d", s.ID(), len(attempts), len(s.Send.Attempts))
				}
				for k, a := range s.Send.Attempts {
					text := attempts[k].text()
					for _, part := range []string{string(a.Channel), "await " + string(a.AwaitOrDefault()), "within " + FormatDuration(a.WithinOrDefault())} {
						if !strings.Contains(text, part) {
							t.Errorf("step %s attempt %d: %q lacks %q", s.ID(), k+1, text, part)
						}
					}
					if attempts[k].attr("data-channel") != string(a.Channel) {
						t.Errorf("step %s attempt %d is on %q, want %q", s.ID(), k+1, attempts[k].attr("data-channel"), a.Channel)
					}
				}
			}
			handlers := root.all(func(c node) bool { return c.hasClass("g", "handler") })
			if len(handlers) != len(j.On) {
				t.Errorf("%d handlers drawn, want %d", len(handlers), len(j.On))
			}
			for i, h := range j.On {
				if i < len(handlers) && handlers[i].attr("data-event") != h.Event {
					t.Errorf("handler %d is for %q, want %q", i, handlers[i].attr("data-event"), h.Event)
				}
			}
		})
	}
}

// headerText returns the text of the header line of class c.
func headerText(root node, c string) string {
	var out []string
	for _, n := range root.all(func(n node) bool { return n.hasClass("text", c) }) {
		out = append(out, n.text())
	}
	return strings.Join(out, " | ")
}

func TestHeaderHoldsGoalsQuietHoursExpiryVerify(t *testing.T) {
	cart, err := journeys.Builtin("abandoned_cart", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, SVG(cart, Options{Channels: testChannels}))
	for class, want := range map[string]string{
		"name":        "abandoned_cart",
		"purpose":     "purpose: marketing · params: cart_url",
		"expire":      "expires: 72h (3d)",
		"quiet-hours": "quiet hours: 21:00–08:00",
		"goal":        "goal: order_placed → converted",
	} {
		if got := headerText(root, class); !strings.Contains(got, want) {
			t.Errorf("header %s = %q, want it to hold %q", class, got, want)
		}
	}
	if got := headerText(root, "verify"); got != "" {
		t.Errorf("abandoned_cart verifies nothing, yet its header says %q", got)
	}
	otp, err := journeys.Builtin("otp", testChannels)
	if err != nil {
		t.Fatal(err)
	}
	root = parse(t, SVG(otp, Options{}))
	if got := headerText(root, "verify"); !strings.Contains(got, "code") || !strings.Contains(got, "5 checks") {
		t.Errorf("otp's verify line = %q", got)
	}
	if got := headerText(root, "quiet-hours") + headerText(root, "goal"); got != "" {
		t.Errorf("otp has no quiet hours or goal, yet its header says %q", got)
	}
}

const branchSpec = `name: nudge
purpose: utility
steps:
  - send:
      id: ask
      on_failure: continue
      attempts:
        - {channel: whatsapp, session: "Still there?", await: read, within: 1h}
        - {channel: sms, text: "Still there?"}
  - branch: {id: read_it, step: ask, outcome: read, channel: whatsapp, then: thanks, else: again}
  - wait: {id: again, until: reply, timeout: 2h, on_timeout: exit}
  - exit: {id: gave_up, outcome: failed}
  - send:
      id: thanks
      attempts:
        - {channel: sms, text: "Thanks!"}
`

func TestBranchHasItsArmsAndWaitsItsTimeout(t *testing.T) {
	j, err := journeys.Parse("nudge.yaml", []byte(branchSpec), testChannels)
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, SVG(j, Options{Channels: testChannels}))
	byID := map[string]node{}
	for _, g := range steps(root) {
		byID[g.attr("data-step")] = g
	}
	branch := byID["read_it"]
	if branch.attr("data-kind") != "branch" || !strings.Contains(branch.text(), "step ask read on whatsapp?") {
		t.Fatalf("branch group %q (%s)", branch.text(), branch.attr("data-kind"))
	}
	arms := branch.all(func(n node) bool { return n.hasClass("g", "arm") })
	var got []string
	for _, a := range arms {
		got = append(got, a.attr("data-arm")+"="+a.attr("data-target")+":"+a.text())
	}
	if want := []string{"then=thanks:then → thanks", "else=again:else → again"}; !slices.Equal(got, want) {
		t.Errorf("arms %q, want %q", got, want)
	}
	jumps := root.all(func(n node) bool { return n.hasClass("path", "jump") })
	if len(jumps) != 2 || jumps[0].attr("data-target") != "thanks" || jumps[1].attr("data-target") != "again" {
		t.Errorf("jump lines %+v, want one to thanks and one to again", jumps)
	}
	if w := byID["again"].text(); !strings.Contains(w, "wait until event reply, at most 2h; on timeout: exit") {
		t.Errorf("wait reads %q", w)
	}
	if e := byID["gave_up"].text(); !strings.Contains(e, "exit: failed") {
		t.Errorf("exit reads %q", e)
	}
	if s := byID["ask"].text(); !strings.Contains(s, "session text") || !strings.Contains(s, "await read") || !strings.Contains(s, "within 1h") || !strings.Contains(s, "all fail: go on") {
		t.Errorf("send reads %q", s)
	}
	if s := byID["thanks"].text(); !strings.Contains(s, "all fail: the journey fails") {
		t.Errorf("a send without on_failure reads %q", s)
	}
	// An else left out goes to the next step.
	j.Steps[1].Branch.Else = ""
	root = parse(t, SVG(j, Options{}))
	if got := root.all(func(n node) bool { return n.hasClass("g", "arm") })[1].text(); got != "else → the next step" {
		t.Errorf("else arm without a target reads %q", got)
	}
}

func TestTextIsEscaped(t *testing.T) {
	evil := `<&>"x'`
	j := journeys.Journey{
		Name: "cart " + evil, Purpose: journeys.Marketing, Goal: []string{"bought" + evil},
		Steps: []journeys.Step{
			{Send: &journeys.SendStep{ID: "s" + evil, Attempts: []journeys.Attempt{{Channel: channels.Channel("fax" + evil), Fields: channels.Fields{"text": "hi"}}}}},
			{Wait: &journeys.WaitStep{ID: "w", Until: "ev" + evil, Timeout: journeys.Duration(1e9)}},
		},
		On: []journeys.Handler{{Event: "e" + evil}},
	}
	svg := SVG(j, Options{})
	if bytes.Contains(svg, []byte(evil)) || bytes.Contains(svg, []byte("<&")) {
		t.Fatalf("the picture holds %q unescaped:\n%s", evil, svg)
	}
	root := parse(t, svg)
	if got := headerText(root, "name"); got != "cart "+evil {
		t.Errorf("name reads %q, want %q", got, "cart "+evil)
	}
	g := steps(root)
	if len(g) != 2 || g[0].attr("data-step") != "s"+evil {
		t.Fatalf("step groups %+v", g)
	}
	attempt := g[0].all(func(n node) bool { return n.hasClass("g", "attempt") })[0]
	if attempt.attr("data-channel") != "fax"+evil || !strings.Contains(attempt.text(), "fax"+evil) {
		t.Errorf("attempt %q on %q", attempt.text(), attempt.attr("data-channel"))
	}
	if !strings.Contains(g[1].text(), "ev"+evil) || !strings.Contains(headerText(root, "goal"), "bought"+evil) {
		t.Errorf("wait %q or goal %q lost the text", g[1].text(), headerText(root, "goal"))
	}
}

func TestChannelColoursFollowTheRegistry(t *testing.T) {
	colourOf := func(order *channels.Registry, ch channels.Channel) string {
		j := journeys.Journey{Name: "c", Steps: []journeys.Step{{Send: &journeys.SendStep{ID: "s", Attempts: []journeys.Attempt{{Channel: ch, Fields: channels.Fields{"text": "x"}}}}}}}
		root := parse(t, SVG(j, Options{Channels: order}))
		return root.all(func(n node) bool { return n.hasClass("text", "channel") })[0].attr("fill")
	}
	first := colourOf(testChannels, channels.WhatsApp)
	if second := colourOf(channels.MustRegistry(sms.Driver{}, whatsapp.Driver{}), channels.WhatsApp); second == first {
		t.Errorf("whatsapp has colour %s first and second in the registry", first)
	}
	if sms := colourOf(testChannels, channels.SMS); sms == first {
		t.Errorf("sms and whatsapp share colour %s", sms)
	}
	if unknown := colourOf(testChannels, "pigeon"); unknown != grey {
		t.Errorf("a channel outside the registry is %s, want grey %s", unknown, grey)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Second: "30s", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 24 * time.Hour: "24h", 72 * time.Hour: "72h (3d)", 50 * time.Hour: "50h", 1500 * time.Millisecond: "1.5s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
