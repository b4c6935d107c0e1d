package journeys

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var builtinFS embed.FS

// Builtin returns the built-in journey with the given name.
func Builtin(name string) (Journey, error) {
	data, err := builtinFS.ReadFile(name + ".yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return Journey{}, fmt.Errorf("unknown journey %q (built-in journeys: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	if err != nil {
		return Journey{}, fmt.Errorf("read built-in journey %q: %w", name, err)
	}
	return Parse(name+".yaml", data)
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

// LoadFile reads and validates a journey file.
func LoadFile(file string) (Journey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Journey{}, fmt.Errorf("load journey: %w", err)
	}
	return Parse(file, data)
}

// Parse decodes and validates one journey written in YAML. file names the
// source in errors, with the line of the field at fault. Unknown fields are
// errors.
func Parse(file string, data []byte) (Journey, error) {
	var j Journey
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&j); err != nil {
		return Journey{}, fmt.Errorf("%s: %w", file, err)
	}
	if err := j.Validate(); err != nil {
		var ve ValidationErrors
		if errors.As(err, &ve) {
			var root yaml.Node
			if yaml.Unmarshal(data, &root) == nil {
				lines := map[string]int{}
				indexLines(&root, "", lines)
				for i := range ve {
					ve[i].File, ve[i].Line = file, lineOf(lines, ve[i].Path)
				}
			}
		}
		return Journey{}, err
	}
	return j, nil
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
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
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
