package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/journeys"
)

// currentChange versions every change named before it at once: a journey
// started since records this one marker instead of one per change
// (checksChange, fewerWritesChange, ownAttributesChange,
// verifyGuardChange, sendStatusChange, nextEventChange) and runs them
// all. A journey started before asks each change's own marker, as it did.
// A later change gets its own GetVersion, until it is folded into the
// next such marker.
//
// A journey whose starter says it was built with this code
// (journeys.Input.Code) runs it without the marker, and so without the
// TemporalChangeVersion upsert the SDK adds to it: a visibility write
// less per journey. Its history has no marker for a worker of older code
// to find: roll workers out before the starters (serve, the CLI, a Go
// backend), as for any change. A worker that meets a marker anyway (an
// older worker ran the first task) skips it on replay.
const currentChange = journeys.CurrentCode

// startedCurrent reports whether this execution runs currentChange: its
// starter says so, or its marker does.
func (r *run) startedCurrent(ctx workflow.Context) bool {
	return r.in.Code == currentChange || workflow.GetVersion(ctx, currentChange, workflow.DefaultVersion, 1) == 1
}

// changed reports whether this execution runs change: every one does when
// it started under currentChange.
func (r *run) changed(ctx workflow.Context, change string) bool {
	return r.exec.current || workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) == 1
}
