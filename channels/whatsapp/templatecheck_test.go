package whatsapp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
)

// fakeRegistry serves templates from a map by name.
type fakeRegistry struct {
	byName map[string][]TemplateInfo
	err    error
}

func (f fakeRegistry) Templates(_ context.Context, name string) ([]TemplateInfo, error) {
	return f.byName[name], f.err
}

func TestSendTemplateCheck(t *testing.T) {
	otp := TemplateInfo{Name: "otp_code", Language: "en_US", Status: "APPROVED", BodyParams: 1,
		Buttons: []ButtonInfo{{Type: "URL", Params: 1}}}
	paused := otp
	paused.Language, paused.Status = "pt_BR", "PAUSED"
	shipped := TemplateInfo{Name: "shipped", Language: "en", Status: "APPROVED", HeaderFormat: "IMAGE", BodyParams: 2,
		Buttons: []ButtonInfo{{Type: "QUICK_REPLY"}, {Type: "PHONE_NUMBER"}}}
	reg := fakeRegistry{byName: map[string][]TemplateInfo{"otp_code": {otp, paused}, "shipped": {shipped}}}
	img := &channels.Header{Media: &channels.Media{Kind: channels.MediaImage, ID: "1"}}
	tests := []struct {
		name     string
		tmpl     channels.Template
		wantCode string // "" means sent
		want     string // in the reason
	}{
		{"approved", channels.Template{Name: "otp_code", Language: "en_US", Body: []string{"1"}, ButtonURL: []string{"1"}}, "", ""},
		{"webhook-style language", channels.Template{Name: "otp_code", Language: "en-us", Body: []string{"1"}, ButtonURL: []string{"1"}}, "", ""},
		{"media header and quick reply payload", channels.Template{Name: "shipped", Language: "en", Header: img, Body: []string{"a", "b"},
			Buttons: []channels.TemplateButton{{Index: 0, Kind: channels.ButtonQuickReply, Payload: "x"}}}, "", ""},
		{"unknown template", channels.Template{Name: "nope", Language: "en"}, CodeTemplateNotFound, "templates sync"},
		{"missing language", channels.Template{Name: "otp_code", Language: "de", Body: []string{"1"}}, CodeTemplateLanguageMissing, "en_US, pt_BR"},
		{"paused", channels.Template{Name: "otp_code", Language: "pt_BR", Body: []string{"1"}, ButtonURL: []string{"1"}}, CodeTemplateNotApproved, "PAUSED"},
		{"too few body parameters", channels.Template{Name: "otp_code", Language: "en_US", ButtonURL: []string{"1"}}, CodeTemplateParamMismatch, "body has 1 parameters, the send gives 0"},
		{"missing url parameter", channels.Template{Name: "otp_code", Language: "en_US", Body: []string{"1"}}, CodeTemplateParamMismatch, "button 0 (URL) needs a parameter"},
		{"extra button", channels.Template{Name: "otp_code", Language: "en_US", Body: []string{"1"}, ButtonURL: []string{"1", "2"}}, CodeTemplateParamMismatch, "the send gives button 1"},
		{"missing image header", channels.Template{Name: "shipped", Language: "en", Body: []string{"a", "b"}}, CodeTemplateParamMismatch, "image header"},
		{"header on a headerless template", channels.Template{Name: "otp_code", Language: "en_US", Header: &channels.Header{Text: "x"}, Body: []string{"1"}, ButtonURL: []string{"1"}}, CodeTemplateParamMismatch, "no header parameter"},
		{"parameter for a phone button", channels.Template{Name: "shipped", Language: "en", Header: img, Body: []string{"a", "b"},
			Buttons: []channels.TemplateButton{{Index: 1, Kind: channels.ButtonURL, Text: "x"}}}, CodeTemplateParamMismatch, "button 1 (PHONE_NUMBER) takes no parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graphAPI{status: http.StatusOK, body: okBody}
			srv := httptest.NewServer(g)
			defer srv.Close()
			c, err := NewClient(Config{APIURL: srv.URL, PhoneNumberID: "1", AccessToken: "t", Templates: reg})
			if err != nil {
				t.Fatal(err)
			}
			tmpl := tt.tmpl
			_, err = c.Send(context.Background(), channels.Message{To: "+16505551234", Template: &tmpl})
			if tt.wantCode == "" {
				if err != nil || g.calls.Load() != 1 {
					t.Fatalf("error = %v, calls = %d; want one send", err, g.calls.Load())
				}
				return
			}
			var se *channels.SendError
			if !errors.As(err, &se) || se.Code != tt.wantCode || !se.Permanent || se.Config || !strings.Contains(se.Reason, tt.want) {
				t.Fatalf("error = %v, want permanent %s about %q", err, tt.wantCode, tt.want)
			}
			if n := g.calls.Load(); n != 0 {
				t.Errorf("server got %d requests", n)
			}
		})
	}
}

func TestSendTemplateRegistryFailureIsRetryable(t *testing.T) {
	g := &graphAPI{status: http.StatusOK, body: okBody}
	srv := httptest.NewServer(g)
	defer srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL, PhoneNumberID: "1", AccessToken: "t", Templates: fakeRegistry{err: errors.New("disk gone")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.Message{To: "+16505551234", Template: &channels.Template{Name: "otp_code", Language: "en_US"}})
	var se *channels.SendError
	if !errors.As(err, &se) || se.Permanent || se.Code != "template_registry" || g.calls.Load() != 0 {
		t.Fatalf("error = %v, want a retryable template_registry error and no call", err)
	}
}
