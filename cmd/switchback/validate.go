package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
)

func runValidate(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "validate", "validate [FILE.yaml ...]")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	return validateJourneys(e, files)
}

// templateChecker checks a journey's WhatsApp templates against the
// template registry, when one has been synced.
type templateChecker struct {
	reg *templates.Registry
	st  store.Store
}

// newTemplateChecker returns a checker, or nil when no registry is synced.
// Close it after use. Without SWITCHBACK_DATABASE_URL, a data directory
// with no SQLite store yet has no registry, and validate creates none.
func newTemplateChecker(ctx context.Context, e *env) *templateChecker {
	cfg, err := loadConfig(e)
	if err != nil {
		return nil
	}
	if cfg.DatabaseURL == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, app.StoreFile)); err != nil {
			return nil
		}
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return nil
	}
	reg := app.TemplateRegistry(st)
	if ts, _, err := reg.List(ctx); err != nil || len(ts) == 0 {
		st.Close()
		return nil
	}
	return &templateChecker{reg: reg, st: st}
}

// close releases the checker's store.
func (tc *templateChecker) close() {
	if tc != nil {
		tc.st.Close()
	}
}

// check reports each WhatsApp template of j that the registry says would
// be refused: unknown, not approved, no such language, wrong parameter
// counts.
func (tc *templateChecker) check(ctx context.Context, source string, j journeys.Journey) []string {
	var problems []string
	visit := func(path string, steps []journeys.Step) {
		for i, st := range steps {
			if st.Send == nil {
				continue
			}
			for k, a := range st.Send.Attempts {
				_, c, err := a.Content(app.Channels())
				spec, ok := c.(whatsapp.Spec)
				if err != nil || !ok || spec.Template == nil {
					continue
				}
				t := spec.Template
				msg := channels.Template{Name: t.Name, Language: t.Language, Body: t.Body, ButtonURL: t.ButtonURL}
				if err := whatsapp.CheckTemplate(ctx, tc.reg, &msg); err != nil {
					problems = append(problems, fmt.Sprintf("%s: step %s: %s[%d].send.attempts[%d].template: %v", source, st.ID(), path, i, k, err))
				}
			}
		}
	}
	visit("steps", j.Steps)
	for h, handler := range j.On {
		visit(fmt.Sprintf("on[%d].steps", h), handler.Steps)
	}
	return problems
}

// validateJourneys checks journey files, or the built-in journeys when
// files is empty, printing each problem; it fails if any journey is invalid.
func validateJourneys(e *env, files []string) error {
	ctx := context.Background()
	tc := newTemplateChecker(ctx, e)
	defer tc.close()
	bad := 0
	check := func(name string, j journeys.Journey, err error) {
		if err == nil && tc != nil {
			if problems := tc.check(ctx, name, j); len(problems) > 0 {
				err = errors.New(strings.Join(problems, "\n"))
			}
		}
		if err != nil {
			bad++
			fmt.Fprintln(e.stderr, err)
			return
		}
		fmt.Fprintf(e.stdout, "ok  %s\n", name)
	}
	if tc == nil {
		fmt.Fprintln(e.stderr, "note: no template registry synced (switchback templates sync): templates are not checked")
	}
	if len(files) == 0 {
		for _, name := range journeys.BuiltinNames() {
			j, err := journeys.Builtin(name, app.Channels())
			check(name, j, err)
		}
	}
	for _, f := range files {
		j, err := journeys.LoadFile(f, app.Channels())
		check(f, j, err)
	}
	if bad > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d invalid journey(s)", bad)}
	}
	return nil
}

// checkBuiltins refuses to run with an invalid built-in journey.
func checkBuiltins() error {
	for _, name := range journeys.BuiltinNames() {
		if _, err := journeys.Builtin(name, app.Channels()); err != nil {
			return fmt.Errorf("built-in journey %s is invalid: %w", name, err)
		}
	}
	return nil
}

// walinkBuiltins returns the built-in journeys that use wa_link, which
// fail at their start on a worker without WHATSAPP_BUSINESS_NUMBER.
func walinkBuiltins() []string {
	var out []string
	for _, name := range journeys.BuiltinNames() {
		if j, err := journeys.Builtin(name, app.Channels()); err == nil && j.UsesWALink(app.Channels()) {
			out = append(out, name)
		}
	}
	return out
}

// loadJourney returns the journey a command names: the one in file (whose
// name must then be the one given, if any), or a built-in one by name.
func loadJourney(file string, pos []string) (journeys.Journey, error) {
	switch {
	case file != "" && len(pos) <= 1:
		j, err := journeys.LoadFile(file, app.Channels())
		if err == nil && len(pos) == 1 && j.Name != pos[0] {
			return journeys.Journey{}, &usageError{fmt.Sprintf("%s defines journey %q, not %q: name the journey the file defines, or leave the name out", file, j.Name, pos[0])}
		}
		return j, err
	case file == "" && len(pos) == 1:
		return journeys.Builtin(pos[0], app.Channels())
	}
	return journeys.Journey{}, &usageError{"name one built-in journey, or give --file (built-in: " + strings.Join(journeys.BuiltinNames(), ", ") + ")"}
}
