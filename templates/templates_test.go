package templates

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/sandbox"
	"github.com/switchbackhq/switchback/store/sqlite"
)

const (
	testToken = "EAAJBtesttoken"
	testWABA  = "102290129340398"
)

// newRegistry returns a registry in a new in-memory store.
func newRegistry(t *testing.T) *Registry {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewRegistry(st)
}

func newSandbox(t *testing.T) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{
		WhatsAppWebhookURL: "http://127.0.0.1:1/webhooks/whatsapp", AppSecret: "s", AccessToken: testToken,
		PhoneNumberID: "1", TwilioAccountSID: "AC1", TwilioAuthToken: "t", WABAID: testWABA,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return srv.URL + "/v23.0"
}

func TestSyncFromSandboxFollowsPages(t *testing.T) {
	api := newSandbox(t)
	reg := newRegistry(t)
	n, err := Sync(context.Background(), SyncConfig{APIURL: api, WABAID: testWABA, AccessToken: testToken, PageSize: 3}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(sandbox.Templates()); n != want {
		t.Fatalf("synced %d templates, want %d (all pages)", n, want)
	}
	list, at, err := reg.List(context.Background())
	if err != nil || len(list) != n || at.IsZero() {
		t.Fatalf("List = %d templates at %v, %v", len(list), at, err)
	}
	infos, err := reg.Templates(context.Background(), "otp_code")
	if err != nil || len(infos) != 1 {
		t.Fatalf("Templates(otp_code) = %+v, %v", infos, err)
	}
	want := whatsapp.TemplateInfo{Name: "otp_code", Language: "en_US", Status: "APPROVED", BodyParams: 1,
		Buttons: []whatsapp.ButtonInfo{{Type: "URL", Params: 1}}}
	if got := infos[0]; got.Name != want.Name || got.Status != want.Status || got.BodyParams != 1 ||
		got.HeaderFormat != "" || len(got.Buttons) != 1 || got.Buttons[0] != want.Buttons[0] {
		t.Errorf("otp_code = %+v, want %+v", got, want)
	}
	for _, tm := range list {
		switch tm.Name {
		case "otp_code":
			if tm.Category != "AUTHENTICATION" || tm.Quality != "GREEN" || tm.Params() != "body 1, buttons 1" {
				t.Errorf("otp_code = %+v (%s)", tm, tm.Params())
			}
		case "spring_sale":
			if tm.Status != "PAUSED" || tm.Quality != "RED" || tm.Params() != "header image, body 2, buttons 0" {
				t.Errorf("spring_sale = %+v (%s)", tm, tm.Params())
			}
		case "welcome_offer":
			if tm.Status != "REJECTED" || tm.RejectedReason != "INVALID_FORMAT" || tm.Language != "pt_BR" {
				t.Errorf("welcome_offer = %+v", tm)
			}
		}
	}
}

func TestFetchErrors(t *testing.T) {
	api := newSandbox(t)
	tests := []struct {
		name     string
		cfg      SyncConfig
		wantCode int // Graph error code; 0: a configuration error before any call
	}{
		{"bad token", SyncConfig{APIURL: api, WABAID: testWABA, AccessToken: "wrong"}, 190},
		{"other account", SyncConfig{APIURL: api, WABAID: "999", AccessToken: testToken}, 100},
		{"no account", SyncConfig{APIURL: api, AccessToken: testToken}, 0},
		{"no token", SyncConfig{APIURL: api, WABAID: testWABA}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fetch(context.Background(), tt.cfg)
			var apiErr *whatsapp.APIError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.wantCode == 0 && errors.As(err, &apiErr):
				t.Errorf("error %v came from the API", err)
			case tt.wantCode != 0 && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode):
				t.Errorf("error = %v, want Graph error %d", err, tt.wantCode)
			}
		})
	}
}

func TestParamCounts(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"Hello", 0},
		{"{{1}} is your code", 1},
		{"Hi {{1}}, {{2}} off. Again {{1}}.", 2},
		{"For {{ number_of_guests }} on {{day}}, {{date}}", 3},
		{"{{}} and {x}", 0},
	}
	for _, tt := range tests {
		if got := countParams(tt.text); got != tt.want {
			t.Errorf("countParams(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
	buttons := []struct {
		b    Button
		want int
	}{
		{Button{Type: "URL", URL: "https://x.test/{{1}}"}, 1},
		{Button{Type: "URL", URL: "https://x.test/static"}, 0},
		{Button{Type: "COPY_CODE"}, 1},
		{Button{Type: "QUICK_REPLY"}, 0},
		{Button{Type: "PHONE_NUMBER"}, 0},
	}
	for _, tt := range buttons {
		if got := buttonParams(tt.b); got != tt.want {
			t.Errorf("buttonParams(%+v) = %d, want %d", tt.b, got, tt.want)
		}
	}
}

func TestRegistryApplyStatus(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	if _, err := reg.Templates(ctx, "otp_code"); !errors.Is(err, whatsapp.ErrNoTemplates) {
		t.Fatalf("never-synced registry: %v, want ErrNoTemplates", err)
	}
	if err := reg.Replace(ctx, testWABA, []Template{
		{Name: "otp_code", Language: "en_US", Status: "APPROVED", Category: "AUTHENTICATION"},
		{Name: "promo", Language: "en", Status: "APPROVED", Category: "MARKETING"},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		update     whatsapp.TemplateStatusUpdate
		wantFound  bool
		wantStatus string // of update.Name afterwards; "" means removed
	}{
		{whatsapp.TemplateStatusUpdate{Name: "otp_code", Language: "en-US", Event: "PAUSED"}, true, "PAUSED"},
		{whatsapp.TemplateStatusUpdate{Name: "otp_code", Language: "en-US", Event: "FLAGGED"}, true, "PAUSED"},
		{whatsapp.TemplateStatusUpdate{Name: "otp_code", Language: "en-US", Event: "REINSTATED"}, true, "APPROVED"},
		{whatsapp.TemplateStatusUpdate{Name: "promo", Language: "en", Event: "REJECTED", Reason: "PROMOTIONAL"}, true, "REJECTED"},
		{whatsapp.TemplateStatusUpdate{Name: "promo", Language: "en", Event: "DELETED"}, true, ""},
		{whatsapp.TemplateStatusUpdate{Name: "unknown", Language: "en", Event: "APPROVED"}, false, ""},
	}
	for _, tt := range tests {
		found, err := reg.ApplyStatus(ctx, tt.update)
		if err != nil || found != tt.wantFound {
			t.Fatalf("ApplyStatus(%+v) = %v, %v", tt.update, found, err)
		}
		infos, err := reg.Templates(ctx, tt.update.Name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tt.wantStatus == "" && len(infos) != 0:
			t.Errorf("after %s %s: still registered: %+v", tt.update.Event, tt.update.Name, infos)
		case tt.wantStatus != "" && (len(infos) != 1 || infos[0].Status != tt.wantStatus):
			t.Errorf("after %s %s: %+v, want status %s", tt.update.Event, tt.update.Name, infos, tt.wantStatus)
		}
	}
}
