package config

import (
	"strings"
	"testing"

	"github.com/switchbackhq/switchback/channels"
	"github.com/switchbackhq/switchback/channels/email"
	"github.com/switchbackhq/switchback/channels/sms"
	"github.com/switchbackhq/switchback/channels/whatsapp"
)

// testPublicKey is SendGrid's published Event Webhook test key.
const testPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="

func TestFromEnvSendGrid(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"SENDGRID_API_KEY": "SG.x", "SENDGRID_FROM": "Acme <noreply@acme.test>",
		"SENDGRID_WEBHOOK_PUBLIC_KEY": testPublicKey, "WHATSAPP_ACCESS_TOKEN": "tok", "WHATSAPP_PHONE_NUMBER_ID": "1",
		"WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_WABA_ID": "102290129340398",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := SendGrid{APIKey: "SG.x", From: "Acme <noreply@acme.test>", APIURL: DefaultSendGridAPIURL, WebhookPublicKey: testPublicKey}
	if c.SendGrid == nil || *c.SendGrid != want {
		t.Errorf("SendGrid = %+v, want %+v", c.SendGrid, want)
	}
	if c.WhatsApp.WABAID != "102290129340398" {
		t.Errorf("WABAID = %q", c.WhatsApp.WABAID)
	}
	if none, _ := FromEnv(env(nil)); none.SendGrid != nil {
		t.Errorf("SendGrid configured with no variables: %+v", none.SendGrid)
	}

	tests := []envErrorCase{
		{"no key", map[string]string{"SENDGRID_FROM": "a@b.test"}, []string{"SENDGRID_API_KEY"}},
		{"no from", map[string]string{"SENDGRID_API_KEY": "k"}, []string{"SENDGRID_FROM"}},
		{"bad url", map[string]string{"SENDGRID_API_KEY": "k", "SENDGRID_FROM": "a@b.test", "SENDGRID_API_URL": "api.sendgrid.com"}, []string{"SENDGRID_API_URL"}},
		{"bad public key", map[string]string{"SENDGRID_API_KEY": "k", "SENDGRID_FROM": "a@b.test", "SENDGRID_WEBHOOK_PUBLIC_KEY": "abc"}, []string{"SENDGRID_WEBHOOK_PUBLIC_KEY"}},
	}
	checkEnvErrors(t, tests)
}

func TestRate(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want map[channels.Channel]float64
		bad  string // the setting an error names
	}{
		{"defaults", nil, map[channels.Channel]float64{channels.WhatsApp: 80, channels.SMS: 1, channels.Email: 100}, ""},
		{"messaging service", map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "x", "TWILIO_MESSAGING_SERVICE_SID": "MG1"},
			map[channels.Channel]float64{channels.WhatsApp: 80, channels.SMS: DefaultRateSMSWithService, channels.Email: 100}, ""},
		{"set", map[string]string{"SWITCHBACK_RATE_WHATSAPP": "250", "SWITCHBACK_RATE_SMS": "0.5", "SWITCHBACK_RATE_EMAIL": "0"},
			map[channels.Channel]float64{channels.WhatsApp: 250, channels.SMS: 0.5, channels.Email: 0}, ""},
		{"bad rate", map[string]string{"SWITCHBACK_RATE_EMAIL": "fast"}, nil, "SWITCHBACK_RATE_EMAIL"},
		{"negative rate", map[string]string{"SWITCHBACK_RATE_SMS": "-1"}, nil, "SWITCHBACK_RATE_SMS"},
	}
	drivers := []channels.Driver{whatsapp.Driver{}, sms.Driver{}, email.Driver{}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(env(tt.set))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range drivers {
				got, err := c.Rate(d)
				switch {
				case tt.bad != "" && err != nil:
					if !strings.Contains(err.Error(), tt.bad) {
						t.Errorf("Rate(%s) = %v, want an error naming %s", d.Channel(), err, tt.bad)
					}
				case err != nil:
					t.Errorf("Rate(%s): %v", d.Channel(), err)
				case tt.bad == "" && got != tt.want[d.Channel()]:
					t.Errorf("Rate(%s) = %v, want %v", d.Channel(), got, tt.want[d.Channel()])
				}
			}
		})
	}
}

func TestFromEnvWhatsAppTwilio(t *testing.T) {
	twilio := map[string]string{"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM": "+15005550006"}
	with := func(more map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range twilio {
			m[k] = v
		}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	const sid = "HX0123456789abcdef0123456789abcdef"
	c, err := FromEnv(env(with(map[string]string{
		"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "whatsapp:+15017122661",
		"WHATSAPP_TWILIO_CONTENT": "otp:en_US=" + sid + ", cart_reminder:pt-BR=" + strings.ToUpper(sid[:2]) + sid[2:],
	})))
	if err != nil {
		t.Fatal(err)
	}
	w := c.WhatsAppTwilio
	if w == nil || w.From != "+15017122661" || w.Content["otp:en_US"] != sid || w.Content["cart_reminder:pt_BR"] != sid || len(w.Content) != 2 {
		t.Errorf("WhatsAppTwilio = %+v", w)
	}
	if c.WhatsApp != nil {
		t.Errorf("WhatsApp (meta) configured: %+v", c.WhatsApp)
	}
	if none, err := FromEnv(env(twilio)); err != nil || none.WhatsAppTwilio != nil {
		t.Errorf("default provider: %+v, %v", none.WhatsAppTwilio, err)
	}

	tests := []envErrorCase{
		{"unknown provider", with(map[string]string{"WHATSAPP_PROVIDER": "gupshup"}), []string{"WHATSAPP_PROVIDER"}},
		{"no twilio", map[string]string{"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "+15017122661", "WHATSAPP_TWILIO_CONTENT": "otp:en_US=" + sid},
			[]string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"}},
		{"no from, no content", with(map[string]string{"WHATSAPP_PROVIDER": "twilio"}), []string{"WHATSAPP_FROM", "WHATSAPP_TWILIO_CONTENT"}},
		{"national from", with(map[string]string{"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "5017122661", "WHATSAPP_TWILIO_CONTENT": "otp:en_US=" + sid}), []string{"WHATSAPP_FROM"}},
		{"no language", with(map[string]string{"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "+15017122661", "WHATSAPP_TWILIO_CONTENT": "otp=" + sid}), []string{"WHATSAPP_TWILIO_CONTENT", "template:language"}},
		{"bad sid", with(map[string]string{"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "+15017122661", "WHATSAPP_TWILIO_CONTENT": "otp:en_US=MG1"}), []string{"WHATSAPP_TWILIO_CONTENT", "Content SID"}},
		{"twice", with(map[string]string{"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_FROM": "+15017122661", "WHATSAPP_TWILIO_CONTENT": "otp:en_US=" + sid + ",otp:en-US=" + sid}), []string{"WHATSAPP_TWILIO_CONTENT", "twice"}},
		{"content without provider", with(map[string]string{"WHATSAPP_TWILIO_CONTENT": "otp:en_US=" + sid}), []string{"WHATSAPP_TWILIO_CONTENT", "WHATSAPP_PROVIDER"}},
	}
	checkEnvErrors(t, tests)
}

// envErrorCase is a configuration that FromEnv must refuse with an error
// naming each of want.
type envErrorCase struct {
	name string
	set  map[string]string
	want []string
}

func checkEnvErrors(t *testing.T, tests []envErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.set))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestFromEnvBusinessNumber(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"WHATSAPP_BUSINESS_NUMBER": " +15550009999 "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WhatsAppBusinessNumber != "+15550009999" {
		t.Errorf("WhatsAppBusinessNumber = %q", c.WhatsAppBusinessNumber)
	}
	if none, _ := FromEnv(env(nil)); none.WhatsAppBusinessNumber != "" {
		t.Errorf("business number %q with no variable", none.WhatsAppBusinessNumber)
	}
	checkEnvErrors(t, []envErrorCase{
		{"no plus", map[string]string{"WHATSAPP_BUSINESS_NUMBER": "15550009999"}, []string{"WHATSAPP_BUSINESS_NUMBER", "E.164"}},
		{"formatted", map[string]string{"WHATSAPP_BUSINESS_NUMBER": "+1 555 000 9999"}, []string{"WHATSAPP_BUSINESS_NUMBER"}},
		{"too short", map[string]string{"WHATSAPP_BUSINESS_NUMBER": "+155"}, []string{"WHATSAPP_BUSINESS_NUMBER", "digits"}},
	})
}
