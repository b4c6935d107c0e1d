package activities

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/journeys"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

const (
	testNumber = "+15551234567"
	testEmail  = "Ana@Example.com"
)

const testSecret = "test-contact-key"

// newTestActivities returns Activities on a fresh in-memory store whose
// clock reads now.
func newTestActivities(t *testing.T, now time.Time) (*Activities, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := channels.MustRegistry(whatsapp.Driver{}, sms.Driver{}, email.Driver{})
	return &Activities{Channels: reg, Messages: st, ContactKey: []byte(testSecret), Now: func() time.Time { return now }}, st
}

func TestCheckEligibility(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	key := journeys.ContactKey([]byte(testSecret), testNumber)
	emailKey := journeys.ContactKey([]byte(testSecret), "ana@example.com")
	suppress := func(k string, ch channels.Channel, r store.SuppressionReason) func(context.Context, store.Store) error {
		return func(ctx context.Context, st store.Store) error {
			return st.Suppress(ctx, store.Suppression{ContactKey: k, Channel: ch, Reason: r, At: now.Add(-time.Hour)})
		}
	}
	consent := func(ch channels.Channel, granted bool, ago time.Duration) func(context.Context, store.Store) error {
		return func(ctx context.Context, st store.Store) error {
			return st.RecordConsent(ctx, store.Consent{ContactKey: key, Channel: ch, Purpose: "marketing", Granted: granted, Source: "test", At: now.Add(-ago)})
		}
	}
	wrote := func(ch channels.Channel, ago time.Duration) func(context.Context, store.Store) error {
		return func(ctx context.Context, st store.Store) error { return st.RecordInbound(ctx, key, ch, now.Add(-ago)) }
	}
	unreachable := func(ctx context.Context, st store.Store) error {
		return st.SetReachability(ctx, store.Reachability{ContactKey: key, Channel: channels.WhatsApp, Code: "131026", Reason: "Message undeliverable", At: now.Add(-time.Hour)})
	}
	wa := EligibilityRequest{Journey: "otp", Purpose: journeys.Authentication, Channel: channels.WhatsApp, To: testNumber, HasTemplate: true}
	with := func(r EligibilityRequest, f func(*EligibilityRequest)) EligibilityRequest { f(&r); return r }
	marketing := func(r *EligibilityRequest) { r.Purpose = journeys.Marketing }
	session := func(r *EligibilityRequest) { r.Session, r.HasTemplate = true, false }
	sessionOrTemplate := func(r *EligibilityRequest) { r.Session, r.HasTemplate = true, true }

	tests := []struct {
		name  string
		setup []func(context.Context, store.Store) error
		req   EligibilityRequest
		want  Eligibility
	}{
		{"nothing known, template", nil, wa, Eligibility{Allowed: true}},
		{"suppressed on the channel", []func(context.Context, store.Store) error{suppress(key, channels.WhatsApp, store.ReasonOptOut)}, wa,
			Eligibility{Reason: "suppressed: opt-out keyword", Class: store.ClassSuppressed}},
		{"suppressed on another channel", []func(context.Context, store.Store) error{suppress(key, channels.SMS, store.ReasonOptOut)}, wa,
			Eligibility{Allowed: true}},
		{"email address suppressed", []func(context.Context, store.Store) error{suppress(emailKey, channels.Email, store.ReasonHardBounce)},
			with(wa, func(r *EligibilityRequest) { r.Channel, r.Email = channels.Email, testEmail }),
			Eligibility{Reason: "suppressed: hard bounce", Class: store.ClassSuppressed}},
		{"suppression beats consent and window", []func(context.Context, store.Store) error{
			suppress(key, channels.WhatsApp, store.ReasonBlocked), consent(channels.WhatsApp, true, time.Hour), wrote(channels.WhatsApp, time.Minute)},
			with(wa, marketing), Eligibility{Reason: "suppressed: blocked", Class: store.ClassSuppressed}},
		{"marketing without consent", nil, with(wa, marketing), Eligibility{Reason: ReasonNoMarketingConsent, Class: store.ClassNoConsent}},
		{"marketing consent withdrawn", []func(context.Context, store.Store) error{consent(channels.WhatsApp, true, 2*time.Hour), consent(channels.WhatsApp, false, time.Hour)},
			with(wa, marketing), Eligibility{Reason: ReasonNoMarketingConsent, Class: store.ClassNoConsent}},
		{"marketing consent granted again", []func(context.Context, store.Store) error{consent(channels.WhatsApp, false, 2*time.Hour), consent(channels.WhatsApp, true, time.Hour)},
			with(wa, marketing), Eligibility{Allowed: true}},
		{"marketing consent on another channel", []func(context.Context, store.Store) error{consent(channels.SMS, true, time.Hour)},
			with(wa, marketing), Eligibility{Reason: ReasonNoMarketingConsent, Class: store.ClassNoConsent}},
		{"utility needs no consent", []func(context.Context, store.Store) error{consent(channels.WhatsApp, false, time.Hour)},
			with(wa, func(r *EligibilityRequest) { r.Purpose = journeys.Utility }), Eligibility{Allowed: true}},
		{"session, never wrote", nil, with(wa, session), Eligibility{Reason: ReasonWindowClosed, Class: store.ClassWindowClosed}},
		{"session, never wrote, template instead", nil, with(wa, sessionOrTemplate),
			Eligibility{Allowed: true, UseTemplate: true, Reason: ReasonWindowClosedTemplate, Class: store.ClassTemplateInstead}},
		{"session, wrote just inside 24h", []func(context.Context, store.Store) error{wrote(channels.WhatsApp, ServiceWindow-time.Second)},
			with(wa, session), Eligibility{Allowed: true}},
		{"session, wrote exactly 24h ago", []func(context.Context, store.Store) error{wrote(channels.WhatsApp, ServiceWindow)},
			with(wa, session), Eligibility{Reason: ReasonWindowClosed, Class: store.ClassWindowClosed}},
		{"session, wrote on SMS only", []func(context.Context, store.Store) error{wrote(channels.SMS, time.Minute)},
			with(wa, session), Eligibility{Reason: ReasonWindowClosed, Class: store.ClassWindowClosed}},
		{"SMS text has no window", nil, with(wa, func(r *EligibilityRequest) { r.Channel, r.Session = channels.SMS, true }),
			Eligibility{Allowed: true}},
		{"unreachable is advice", []func(context.Context, store.Store) error{unreachable}, wa,
			Eligibility{Allowed: true, Unreachable: "131026: Message undeliverable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			a, st := newTestActivities(t, now)
			for _, f := range tt.setup {
				if err := f(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			got, err := a.CheckEligibility(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckEligibility = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckEligibilityNoStore(t *testing.T) {
	if _, err := (&Activities{}).CheckEligibility(context.Background(), EligibilityRequest{}); err == nil {
		t.Error("no error without a store")
	}
}
