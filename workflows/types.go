package workflows

import "github.com/switchbackhq/switchback/journeys"

// The workflow's result and timeline types live in journeys, beside the
// rest of the contract with backends; these aliases keep workflows readable.
type (
	// Outcome is journeys.Outcome.
	Outcome = journeys.Outcome
	// EventKind is journeys.EventKind.
	EventKind = journeys.EventKind
	// Event is journeys.Event.
	Event = journeys.Event
	// Timeline is journeys.Timeline.
	Timeline = journeys.Timeline
	// Result is journeys.Result.
	Result = journeys.Result
)

// Outcomes and event kinds, as in journeys.
const (
	OutcomeRunning   = journeys.OutcomeRunning
	OutcomeDelivered = journeys.OutcomeDelivered
	OutcomeCompleted = journeys.OutcomeCompleted
	OutcomeConverted = journeys.OutcomeConverted
	OutcomeVerified  = journeys.OutcomeVerified
	OutcomeLocked    = journeys.OutcomeLocked
	OutcomeBlocked   = journeys.OutcomeBlocked
	OutcomeFailed    = journeys.OutcomeFailed
	OutcomeExpired   = journeys.OutcomeExpired
	OutcomeCanceled  = journeys.OutcomeCanceled

	EventStarted    = journeys.EventStarted
	EventAttempt    = journeys.EventAttempt
	EventSent       = journeys.EventSent
	EventSendFailed = journeys.EventSendFailed
	EventSkipped    = journeys.EventSkipped
	EventDeferred   = journeys.EventDeferred
	EventStatus     = journeys.EventStatus
	EventFallback   = journeys.EventFallback
	EventReceived   = journeys.EventReceived
	EventWait       = journeys.EventWait
	EventBranch     = journeys.EventBranch
	EventVerify     = journeys.EventVerify
	EventDone       = journeys.EventDone
)

// Signal, query and update names, as in journeys.
const (
	SignalStatus  = journeys.SignalStatus
	SignalEvent   = journeys.SignalEvent
	QueryTimeline = journeys.QueryTimeline
	UpdateVerify  = journeys.UpdateVerify
)
