package journeys

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchbackhq/switchback/channels"
)

//go:embed *.yaml
var builtinFS embed.FS

// Builtin returns the built-in journey with the given name, checked
// against the channels of reg.
func Builtin(name string, reg *channels.Registry) (Journey, error) {
	data, err := builtinFS.ReadFile(name + ".yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return Journey{}, fmt.Errorf("unknown journey %q (built-in journeys: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	if err != nil {
		return Journey{}, fmt.Errorf("read built-in journey %q: %w", name, err)
	}
	return Parse(name+".yaml", data, reg)
}

// BuiltinNames lists the built-in journeys, sorted.
func BuiltinNames() []string {
	entries, _ := builtinFS.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadFile reads a journey file and validates it against the channels of
// reg.
func LoadFile(file string, reg *channels.Registry) (Journey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Journey{}, fmt.Errorf("load journey: %w", err)
	}
	return Parse(file, data, reg)
}

// Parse decodes one journey written in YAML and validates it against the
// channels of reg (Journey.Validate); a nil reg decodes only, for a
// journey checked already (one a worker resolved). It reports
// every problem of the file at once, as ValidationErrors that name file,
// line, step and field: values of the wrong type (a bad duration), unknown
// fields, and what Validate finds. A file that is not YAML at all is a
// plain error.
func Parse(file string, data []byte, reg *channels.Registry) (Journey, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Journey{}, fmt.Errorf("%s: %w", file, err)
	}
	var j Journey
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var te *yaml.TypeError
	if err := dec.Decode(&j); err != nil && !errors.As(err, &te) {
		return Journey{}, fmt.Errorf("%s: %w", file, err)
	}
	lines := map[string]int{}
	indexLines(&root, "", lines)
	var decoded ValidationErrors
	if te != nil {
		decoded = decodeErrors(j, te, lines)
	}
	errs := decoded
	var ve ValidationErrors
	if reg != nil {
		if err := j.Validate(reg); !errors.As(err, &ve) && err != nil {
			return Journey{}, fmt.Errorf("%s: %w", file, err)
		}
	}
	for _, e := range ve {
		// A field that did not decode leaves its parent looking empty:
		// the decode error already says what is wrong there.
		if !slices.ContainsFunc(decoded, func(d ValidationError) bool { return e.Path == d.Path || e.Path == parent(d.Path) }) {
			e.Line = lineOf(lines, e.Path)
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return j, nil
	}
	for i := range errs {
		errs[i].File = file
	}
	// By line; problems with no line (a missing field) last.
	slices.SortStableFunc(errs, func(a, b ValidationError) int {
		return cmp.Compare(lineKey(a.Line), lineKey(b.Line))
	})
	return Journey{}, errs
}

func lineKey(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}

// decodeErrors turns the type errors of a YAML decode into located
// problems. yaml.v3 reports them as text, each "line N: what"; the path
// is the field on that line (their closest common parent when a line holds
// several, as a flow mapping does).
func decodeErrors(j Journey, te *yaml.TypeError, lines map[string]int) ValidationErrors {
	var errs ValidationErrors
	for _, msg := range te.Errors {
		e := ValidationError{Msg: msg}
		if n, rest, ok := cutLine(msg); ok {
			e.Line, e.Msg = n, rest
			e.Path = pathOnLine(lines, n)
			e.Step = stepAt(j, e.Path)
		}
		errs = append(errs, e)
	}
	return errs
}

// cutLine splits yaml.v3's "line N: what" into N and what.
func cutLine(msg string) (int, string, bool) {
	head, rest, ok := strings.Cut(msg, ": ")
	if num, isLine := strings.CutPrefix(head, "line "); ok && isLine {
		if n, err := strconv.Atoi(num); err == nil {
			return n, rest, true
		}
	}
	return 0, msg, false
}

// pathOnLine returns the deepest field that starts on line, or the common
// parent of the deepest ones when there are several.
func pathOnLine(lines map[string]int, line int) string {
	var deepest []string
	depth := -1
	for p, l := range lines {
		if l != line {
			continue
		}
		switch d := strings.Count(p, ".") + strings.Count(p, "["); {
		case d > depth:
			deepest, depth = []string{p}, d
		case d == depth:
			deepest = append(deepest, p)
		}
	}
	if len(deepest) == 0 {
		return ""
	}
	common := deepest[0]
	for _, p := range deepest[1:] {
		for common != "" && !within(p, common) {
			common = parent(common)
		}
	}
	// An item of a flow sequence ([1]) stands for the field that holds it.
	for strings.HasSuffix(common, "]") && lines[parent(common)] == line {
		common = parent(common)
	}
	return common
}

// within reports whether path is top or lies under it.
func within(path, top string) bool {
	return path == top || strings.HasPrefix(path, top) && (path[len(top)] == '.' || path[len(top)] == '[')
}

// parent returns the path of the field or item that holds path.
func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// stepAt returns the id of the step that path lies in, if j has it.
func stepAt(j Journey, path string) string {
	var steps []Step
	rest := path
	if h, after, ok := cutIndex(path, "on"); ok && h < len(j.On) {
		steps, rest = j.On[h].Steps, strings.TrimPrefix(after, ".")
	} else {
		steps = j.Steps
	}
	if i, _, ok := cutIndex(rest, "steps"); ok && i < len(steps) {
		return steps[i].ID()
	}
	return ""
}

// cutIndex reads "name[i]" at the start of path and returns i and what
// follows.
func cutIndex(path, name string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, name+"[")
	if !ok {
		return 0, "", false
	}
	num, after, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	return i, after, err == nil
}

// indexLines records the line of every mapping key and sequence item under
// n, by path ("steps[0].send.attempts[1].within").
func indexLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexLines(c, path, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			lines[p] = n.Content[i].Line
			indexLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			lines[p] = c.Line
			indexLines(c, p, lines)
		}
	}
}

// lineOf returns the line of path, or of its closest ancestor.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		path = parent(path)
	}
	return 0
}

// ValidationError is one problem with a journey definition, located by
// file, line, step and field.
type ValidationError struct {
	File string
	Line int
	// Step is the id of the step at fault, if any.
	Step string
	// Path locates the field from the top of the journey, e.g.
	// "steps[0].send.attempts[1].within".
	Path string
	Msg  string
}

func (e ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Step != "" {
		fmt.Fprintf(&b, "step %s: ", e.Step)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors is every problem found in one journey.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
