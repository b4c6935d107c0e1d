package workflows

import "go.temporal.io/sdk/workflow"

// currentChange versions every change named before it at once: a journey
// started since records this one marker instead of one per change
// (checksChange, fewerWritesChange, ownAttributesChange,
// verifyGuardChange, sendStatusChange, nextEventChange) and runs them
// all. A journey started before asks each change's own marker, as it did.
// A later change gets its own GetVersion, until it is folded into the
// next such marker.
const currentChange = "journey-2026-12"

// changed reports whether this execution runs change: every one does when
// it started under currentChange.
func (r *run) changed(ctx workflow.Context, change string) bool {
	return r.exec.current || workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) == 1
}
