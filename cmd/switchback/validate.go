package main

import (
	"context"
	"fmt"

	"github.com/switchbackhq/switchback/journeys"
)

func runValidate(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "validate", "validate [FILE.yaml ...]")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	return validateJourneys(e, files)
}

// validateJourneys checks journey files, or the built-in journeys when
// files is empty, printing each problem; it fails if any journey is invalid.
func validateJourneys(e *env, files []string) error {
	bad := 0
	check := func(name string, err error) {
		if err != nil {
			bad++
			fmt.Fprintln(e.stderr, err)
			return
		}
		fmt.Fprintf(e.stdout, "ok  %s\n", name)
	}
	if len(files) == 0 {
		for _, name := range journeys.BuiltinNames() {
			_, err := journeys.Builtin(name)
			check(name, err)
		}
	}
	for _, f := range files {
		_, err := journeys.LoadFile(f)
		check(f, err)
	}
	if bad > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d invalid journey(s)", bad)}
	}
	return nil
}

// checkBuiltins refuses to run with an invalid built-in journey.
func checkBuiltins() error {
	for _, name := range journeys.BuiltinNames() {
		if _, err := journeys.Builtin(name); err != nil {
			return fmt.Errorf("built-in journey %s is invalid: %w", name, err)
		}
	}
	return nil
}
