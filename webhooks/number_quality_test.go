package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/store/sqlite"
)

// A signed phone_number_quality_update is recorded in the store as the
// account's number state: FLAGGED sets the flag and keeps the tier, a
// DOWNGRADE records the new tier and clears the flag. A hook error answers
// 503 (Meta retries); a malformed change 400; the display number is
// never logged.
func TestWhatsAppNumberQuality(t *testing.T) {
	ctx := context.Background()
	change := func(value string) string {
		return `{"entry":[{"id":"102290129340398","time":1751247548,"changes":[{"value":` + value +
			`,"field":"phone_number_quality_update"}]}],"object":"whatsapp_business_account"}`
	}
	flagged := change(`{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_10K"}`)
	downgrade := change(`{"display_phone_number":"15550783881","event":"DOWNGRADE","old_limit":"TIER_10K","current_limit":"TIER_2K"}`)
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var hookErr error
	var logs strings.Builder
	h := New(Config{
		WhatsAppAppSecret: appSecret, WhatsAppVerifyToken: verifyToken,
		Temporal: &fakeTemporal{}, SignalName: "status", Messages: st, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		NumberState: func(ctx context.Context, s store.NumberState) error {
			if hookErr != nil {
				return hookErr
			}
			return st.SetNumberState(ctx, s)
		},
	})
	if w := postWhatsApp(h, flagged, metaSign(flagged)); w.Code != 200 {
		t.Fatalf("flagged: code %d (%s)", w.Code, w.Body)
	}
	states, err := st.NumberStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.NumberState{Account: "102290129340398", Tier: "TIER_10K", Event: "FLAGGED", Flagged: true, UpdatedAt: now}
	if len(states) != 1 || states[0] != want {
		t.Errorf("after FLAGGED: %+v, want %+v", states, want)
	}
	if w := postWhatsApp(h, downgrade, metaSign(downgrade)); w.Code != 200 {
		t.Fatalf("downgrade: code %d (%s)", w.Code, w.Body)
	}
	states, _ = st.NumberStates(ctx)
	if s := states[0]; s.Tier != "TIER_2K" || s.Flagged || s.Event != "DOWNGRADE" {
		t.Errorf("after DOWNGRADE: %+v, want TIER_2K, not flagged", s)
	}
	hookErr = errors.New("database is locked")
	if w := postWhatsApp(h, flagged, metaSign(flagged)); w.Code != 503 {
		t.Errorf("hook error: code %d, want 503", w.Code)
	}
	bad := change(`{"display_phone_number":"15550783881","current_limit":"TIER_250"}`)
	if w := postWhatsApp(h, bad, metaSign(bad)); w.Code != 400 {
		t.Errorf("no event: code %d, want 400", w.Code)
	}
	if strings.Contains(logs.String(), "15550783881") {
		t.Errorf("the display number was logged: %s", logs.String())
	}
}
