package webhooks

import (
	"context"
	"errors"
	"testing"

	"github.com/switchbackhq/switchback/channels/whatsapp"
	"github.com/switchbackhq/switchback/store/sqlite"
)

func TestWhatsAppTemplateStatusHook(t *testing.T) {
	body := `{"entry":[{"id":"102290129340398","time":1751247548,"changes":[{"value":{"event":"PAUSED","message_template_id":1689556908129832,"message_template_name":"otp_code","message_template_language":"en-US","reason":"NONE","message_template_category":"AUTHENTICATION"},"field":"message_template_status_update"}]}],"object":"whatsapp_business_account"}`
	malformed := `{"entry":[{"id":"1","changes":[{"value":{"event":"PAUSED"},"field":"message_template_status_update"}]}],"object":"whatsapp_business_account"}`
	tests := []struct {
		name     string
		body     string
		hookErr  error
		wantCode int
		wantSeen int
	}{
		{"applied", body, nil, 200, 1},
		{"hook fails", body, errors.New("disk full"), 503, 1},
		{"malformed", malformed, nil, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var seen []whatsapp.TemplateStatusUpdate
			h := New(Config{
				WhatsAppAppSecret: appSecret, WhatsAppVerifyToken: verifyToken,
				Temporal: &fakeTemporal{}, SignalName: "status", Messages: st,
				TemplateStatus: func(_ context.Context, u whatsapp.TemplateStatusUpdate) error {
					seen = append(seen, u)
					return tt.hookErr
				},
			})
			w := postWhatsApp(h, tt.body, metaSign(tt.body))
			if w.Code != tt.wantCode || len(seen) != tt.wantSeen {
				t.Fatalf("code %d (%s), hook saw %d; want %d, %d", w.Code, w.Body, len(seen), tt.wantCode, tt.wantSeen)
			}
			if len(seen) > 0 && (seen[0].Name != "otp_code" || seen[0].Event != "PAUSED" || seen[0].WABAID != "102290129340398") {
				t.Errorf("update = %+v", seen[0])
			}
		})
	}
	// Without a hook the update is only logged.
	h, _ := newHandler(t, &fakeTemporal{})
	if w := postWhatsApp(h, body, metaSign(body)); w.Code != 200 {
		t.Errorf("without a hook: code %d", w.Code)
	}
}
