package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/diagram"
	"github.com/switchbackhq/switchback/journeys"
)

// runGraph writes a journey's diagram, as the console draws it, to stdout.
func runGraph(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "graph", "graph JOURNEY|--file journey.yaml > journey.svg")
	file := fs.String("file", "", "journey definition file (default: the built-in JOURNEY); JOURNEY, if given, must be its name")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *file == "" && len(pos) == 1 && !slices.Contains(journeys.BuiltinNames(), pos[0]) {
		return &usageError{fmt.Sprintf("unknown journey %q (built-in journeys: %s; or give --file)", pos[0], strings.Join(journeys.BuiltinNames(), ", "))}
	}
	j, err := loadJourney(*file, pos)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(diagram.SVG(j, diagram.Options{Channels: app.Channels()}))
	return err
}
