package workflows

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchbackhq/switchback/journeys"
)

// defaultVerifyWindow is how long a code can be checked when the journey
// has no expire.
const defaultVerifyWindow = 10 * time.Minute

// defaultVerifyAttempts bounds code checks when the journey does not.
const defaultVerifyAttempts = 5

// verifyGuardChange versions the verify update handler's own check that a
// code may still be checked: journeys started before it replay without.
const verifyGuardChange = "verify-guard"

// verifyState is what the journey keeps to check a code: never the code.
type verifyState struct {
	hash      []byte // HMAC of the code under the worker's verify key
	attempts  int
	max       int
	until     time.Time
	verified  bool
	exhausted bool
	// guarded: the update handler checks again that a code may be checked
	// (see verifyGuardChange).
	guarded bool
}

// setVerify keeps a keyed hash of the code and registers the verify update.
func (r *run) setVerify(ctx workflow.Context, v *journeys.Verification) error {
	until := r.exec.deadline
	if until.IsZero() {
		until = r.exec.started.Add(defaultVerifyWindow)
	}
	r.verify = &verifyState{hash: r.codeHash(r.in.Vars[v.Param]), max: v.MaxAttempts, until: until}
	if r.verify.max == 0 {
		r.verify.max = defaultVerifyAttempts
	}
	r.verify.guarded = r.changed(ctx, verifyGuardChange)
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerify, r.checkCode, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, code string) error {
			if code == "" {
				return errors.New("no code given")
			}
			return r.verifyClosed(ctx)
		},
	})
}

// checkCode is the verify update's handler. The validator does not run on
// replay, and two updates of one workflow task both pass it before either
// handler runs: the handler checks again that a code may be checked.
func (r *run) checkCode(ctx workflow.Context, code string) (journeys.VerifyResult, error) {
	vs := r.verify
	if vs.guarded {
		if err := r.verifyClosed(ctx); err != nil {
			return journeys.VerifyResult{}, err
		}
	}
	vs.attempts++
	ok := hmac.Equal(vs.hash, r.codeHash(code))
	res := journeys.VerifyResult{Verified: ok, Remaining: vs.max - vs.attempts}
	switch {
	case ok:
		vs.verified = true
		r.record(ctx, Event{Kind: EventVerify, Reason: "right code"})
		r.endWith(&ending{outcome: OutcomeVerified, reason: "code verified"})
	case vs.attempts >= vs.max:
		vs.exhausted = true
		r.record(ctx, Event{Kind: EventVerify, Reason: "wrong code; no checks left"})
		r.endWith(&ending{outcome: OutcomeLocked, reason: fmt.Sprintf("%d wrong codes", vs.attempts)})
	default:
		r.record(ctx, Event{Kind: EventVerify, Reason: fmt.Sprintf("wrong code; %d checks left", res.Remaining)})
	}
	r.inbox.wake.SendAsync(nil)
	return res, nil
}

// endWith makes the journey end with e, unless it already must end.
func (r *run) endWith(e *ending) {
	if r.end == nil {
		r.end = e
	}
}

// verifyClosed says why no code may be checked now, or returns nil.
func (r *run) verifyClosed(ctx workflow.Context) error {
	vs := r.verify
	switch {
	case vs.verified:
		return errors.New("the code was already verified")
	case vs.exhausted || vs.attempts >= vs.max:
		return fmt.Errorf("no checks left: %d wrong codes", vs.attempts)
	case !workflow.Now(ctx).Before(vs.until):
		return errors.New("the code has expired")
	case r.end != nil:
		return fmt.Errorf("the journey has ended (%s)", r.end.outcome)
	}
	return nil
}

// codeHash is the HMAC-SHA256 of the journey's workflow id and a code under
// the worker's verify key: without the key, the hash does not reveal the
// code, even though a code has few digits.
func (r *run) codeHash(code string) []byte {
	m := hmac.New(sha256.New, r.cfg.verifyKey)
	m.Write([]byte(r.exec.workflowID + "\x00" + code))
	return m.Sum(nil)
}

// awaitVerification keeps the journey open, after its steps, until the code
// is verified, too many wrong codes are checked, or the code expires. A
// journey whose sends all failed has nothing to verify.
func (r *run) awaitVerification(ctx workflow.Context) error {
	if r.sends.last.outcome == journeys.StepFailed {
		return &ending{outcome: OutcomeFailed, reason: "the code could not be delivered"}
	}
	r.flush(ctx)
	r.timeline.Awaiting = "verification until " + r.verify.until.UTC().Format(time.RFC3339)
	defer func() { r.timeline.Awaiting = "" }()
	if _, err := r.waitFor(ctx, waitSpec{until: r.verify.until}); err != nil {
		return err
	}
	return &ending{outcome: OutcomeExpired, reason: "the code expired unverified"}
}
