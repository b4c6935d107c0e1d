package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
)

// Broadcast activity names, as registered.
const (
	BroadcastPageName  = "BroadcastPage"
	BroadcastStartName = "BroadcastStart"
)

// UnknownSegmentType is the type of the non-retryable ApplicationError of
// a page of a segment that the store does not have.
const UnknownSegmentType = "UnknownSegment"

// SkipReason says why a broadcast started no journey for a member.
type SkipReason string

// Skip reasons.
const (
	// SkipNoNumber: the contact has no phone number.
	SkipNoNumber SkipReason = "no-number"
	// SkipInvalidAddress: the contact's number or email is not valid.
	SkipInvalidAddress SkipReason = "invalid-address"
	// SkipGone: the contact left the store after its page was read.
	SkipGone SkipReason = "contact-gone"
)

// BroadcastStore is the part of store.Store that the broadcast activities
// read.
type BroadcastStore interface {
	SegmentSize(ctx context.Context, name string, at time.Time) (int, error)
	SegmentMembers(ctx context.Context, name string, at time.Time, after string, limit int) ([]store.Contact, error)
	Contact(ctx context.Context, key string) (store.Contact, error)
}

// JourneyStarter starts a journey; a journey with opts.ID that exists
// already reports existed and starts nothing (journeys.Start).
type JourneyStarter func(ctx context.Context, opts journeys.StartOptions) (existed bool, err error)

// Broadcasts holds what the broadcast activities need. Register a
// *Broadcasts with the journeys' worker; its methods are the activities.
type Broadcasts struct {
	// Store has the segments and the contacts' addresses.
	Store BroadcastStore
	// ContactKey keys the SwitchbackContact search attribute of the
	// journeys started, as journeys.StartOptions.ContactKey.
	ContactKey []byte
	// Channels are the channels journeys are parsed and checked with
	// (app.Channels).
	Channels *channels.Registry
	// Journeys finds a journey definition by name; nil: the built-in
	// journeys, as `switchback start` finds them.
	Journeys func(name string) (journeys.Journey, error)
	// Start starts one journey; nil: journeys.Start with the activity's
	// Temporal client (the worker's).
	Start JourneyStarter
	// Guard is the store of the quality guard and the messaging limit
	// (nil: the broadcast check finds nothing); Limits are the messaging
	// limits (nil: none) and Quality the failure-rate guard.
	Guard   GuardStore
	Limits  *MessagingLimits
	Quality QualityGuard
	// Metrics, if not nil, shows the messaging limit's use.
	Metrics *Metrics
	// Now is the clock of the messaging limit (default time.Now).
	Now func() time.Time
}

// PageRequest asks for a page of a segment's contact keys.
type PageRequest struct {
	Segment string    `json:"segment"`
	At      time.Time `json:"at"`
	After   string    `json:"after,omitempty"`
	Limit   int       `json:"limit"`
	// Count asks for the segment's size too.
	Count bool `json:"count,omitempty"`
}

// PageResult is a page of contact keys, in key order: the next page
// follows the last one. Fewer than the limit: the segment's last page.
type PageResult struct {
	Keys []string `json:"keys,omitempty"`
	// Size is the segment's size, when the request asked for it.
	Size int `json:"size,omitempty"`
}

// BroadcastPage reads a page of the segment's members, evaluated at
// req.At: only their contact keys, so that no address enters the
// broadcast's history. A store outage is an error the retry policy
// retries; an unknown segment is not retried.
func (b *Broadcasts) BroadcastPage(ctx context.Context, req PageRequest) (PageResult, error) {
	cs, err := b.Store.SegmentMembers(ctx, req.Segment, req.At, req.After, req.Limit)
	if errors.Is(err, store.ErrNotFound) {
		return PageResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("segment %q does not exist (switchback segment list)", req.Segment), UnknownSegmentType, err)
	}
	if err != nil {
		return PageResult{}, fmt.Errorf("read segment %s after %q: %w", req.Segment, req.After, err)
	}
	var res PageResult
	for _, c := range cs {
		res.Keys = append(res.Keys, c.Key)
	}
	if req.Count {
		if res.Size, err = b.Store.SegmentSize(ctx, req.Segment, req.At); err != nil {
			return PageResult{}, fmt.Errorf("count segment %s: %w", req.Segment, err)
		}
	}
	return res, nil
}

// StartBatchRequest asks to start the journey for a batch of contacts.
type StartBatchRequest struct {
	// Broadcast is the broadcast's id: journey ids are Broadcast + "/" +
	// the contact key.
	Broadcast string            `json:"broadcast"`
	Journey   string            `json:"journey"`
	Vars      map[string]string `json:"vars,omitempty"`
	Keys      []string          `json:"keys"`
	// TierLimit, when not zero, is the messaging limit that each member
	// is counted against before its journey starts (a journey that starts
	// on WhatsApp): the batch stops at the first that finds no room.
	TierLimit int `json:"tier_limit,omitempty"`
}

// BatchCounts counts what a batch did with its contacts.
type BatchCounts struct {
	Started int `json:"started,omitempty"`
	// Existing counts journeys that existed already: started by an earlier
	// run, a retried batch or a double submit. Nothing was sent again.
	Existing int                `json:"existing,omitempty"`
	Skipped  map[SkipReason]int `json:"skipped,omitempty"`
	// Left counts the batch's last members not handled: the messaging
	// limit had no room for them. The broadcast tries them again; Add
	// does not add them.
	Left int `json:"left,omitempty"`
}

// Add adds o to c.
func (c *BatchCounts) Add(o BatchCounts) {
	c.Started += o.Started
	c.Existing += o.Existing
	for r, n := range o.Skipped {
		c.skip(r, n)
	}
}

func (c *BatchCounts) skip(r SkipReason, n int) {
	if c.Skipped == nil {
		c.Skipped = map[SkipReason]int{}
	}
	c.Skipped[r] += n
}

// batchProgress is a batch's heartbeat: a retried batch goes on from it.
type batchProgress struct {
	Done   int         `json:"done"`
	Counts BatchCounts `json:"counts"`
}

// JourneyID returns the workflow id of a broadcast's journey for a
// contact: never its number or email.
func JourneyID(broadcast, contactKey string) string { return broadcast + "/" + contactKey }

// BroadcastStart starts the journey for each contact of the batch, with
// the contact's number, email and time zone from the store, counting each
// against req.TierLimit first when it is set. It heartbeats
// its progress, and a retry goes on from the last heartbeat; a journey
// that exists already counts as existing and is not started again.
func (b *Broadcasts) BroadcastStart(ctx context.Context, req StartBatchRequest) (BatchCounts, error) {
	j, err := b.journey(req.Journey)
	if err != nil {
		return BatchCounts{}, err
	}
	if err := j.CheckVars(req.Vars); err != nil {
		return BatchCounts{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("broadcast %s: %v", req.Broadcast, err), "InvalidInput", err)
	}
	var p batchProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	tier := req.TierLimit > 0 && b.Guard != nil && j.FirstChannel() == channels.WhatsApp
	for ; p.Done < len(req.Keys); p.Done++ {
		key := req.Keys[p.Done]
		if tier {
			ok, err := b.Guard.ReserveRecipient(ctx, key, req.TierLimit, b.now())
			if err != nil {
				return BatchCounts{}, fmt.Errorf("broadcast %s: %w", req.Broadcast, err)
			}
			if !ok {
				p.Counts.Left = len(req.Keys) - p.Done
				return p.Counts, nil
			}
		}
		if err := b.startOne(ctx, req, j, key, &p.Counts); err != nil {
			return BatchCounts{}, err
		}
		activity.RecordHeartbeat(ctx, batchProgress{Done: p.Done + 1, Counts: p.Counts})
	}
	return p.Counts, nil
}

// startOne starts the journey for one contact and counts the outcome; an
// error is a failure worth retrying (the store, Temporal).
func (b *Broadcasts) startOne(ctx context.Context, req StartBatchRequest, j journeys.Journey, key string, n *BatchCounts) error {
	c, err := b.Store.Contact(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		n.skip(SkipGone, 1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read contact %s: %w", key, err)
	}
	if c.Number == "" {
		n.skip(SkipNoNumber, 1)
		return nil
	}
	opts := journeys.StartOptions{Journey: j, To: c.Number, Email: c.Email, TimeZone: c.TimeZone, Vars: req.Vars,
		ID: JourneyID(req.Broadcast, key), ContactKey: b.ContactKey, Priority: journeys.BroadcastPriority}
	if err := opts.Check(); err != nil {
		n.skip(SkipInvalidAddress, 1)
		return nil
	}
	existed, err := b.starter()(ctx, opts)
	if err != nil {
		return fmt.Errorf("start journey %s: %w", opts.ID, err)
	}
	if existed {
		n.Existing++
	} else {
		n.Started++
	}
	return nil
}

// journey finds the broadcast's journey; an unknown one is not retried
// (type "UnknownJourney", as workflows.UnknownJourneyType).
func (b *Broadcasts) journey(name string) (journeys.Journey, error) {
	var j journeys.Journey
	var err error
	if b.Journeys != nil {
		j, err = b.Journeys(name)
	} else {
		j, err = journeys.Builtin(name, b.Channels)
	}
	if err != nil {
		return journeys.Journey{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("journey %q: %v", name, err), "UnknownJourney", err)
	}
	return j, nil
}

func (b *Broadcasts) starter() JourneyStarter {
	if b.Start != nil {
		return b.Start
	}
	return func(ctx context.Context, opts journeys.StartOptions) (bool, error) {
		_, existed, err := journeys.Start(ctx, activity.GetClient(ctx), opts)
		return existed, err
	}
}
