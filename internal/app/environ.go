package app

import (
	"fmt"
	"strings"

	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
)

// WorkerEnviron returns the settings (NAME=value) under which
// config.FromEnv reads cfg again in another process, as far as a worker
// needs it: Temporal, the store, the keys, the rates, the worker's cache,
// pollers and version, and the WhatsApp, Twilio and SendGrid providers with the
// business number. A test or a benchmark runs `switchback worker` under them.
func WorkerEnviron(cfg config.Config) []string {
	env := []string{
		"SWITCHBACK_TEMPORAL_ADDRESS=" + cfg.TemporalAddress,
		"SWITCHBACK_TEMPORAL_NAMESPACE=" + cfg.TemporalNamespace,
		"SWITCHBACK_HTTP_ADDR=" + cfg.HTTPAddr,
		"SWITCHBACK_DATA_DIR=" + cfg.DataDir,
		"SWITCHBACK_ENCRYPTION_KEY=" + codec.FormatKeys(cfg.EncryptionKeys),
		"SWITCHBACK_CONTACT_KEY=" + string(cfg.ContactKeyOrDefault()),
		fmt.Sprintf("SWITCHBACK_WORKER_CACHE=%d", cfg.WorkerCache),
	}
	if cfg.WorkerPollers > 0 {
		env = append(env, fmt.Sprintf("SWITCHBACK_WORKER_POLLERS=%d", cfg.WorkerPollers))
	}
	if v := cfg.Worker; v.Versioned() {
		env = append(env, "SWITCHBACK_WORKER_DEPLOYMENT="+v.Deployment, "SWITCHBACK_WORKER_BUILD_ID="+v.BuildID)
	}
	if cfg.DatabaseURL != "" {
		env = append(env, "SWITCHBACK_DATABASE_URL="+cfg.DatabaseURL)
	}
	if cfg.InsecurePlaintext {
		env = append(env, "SWITCHBACK_INSECURE_PLAINTEXT=1")
	}
	for _, d := range Channels().Drivers() {
		if r, err := cfg.Rate(d); err == nil {
			env = append(env, fmt.Sprintf("SWITCHBACK_RATE_%s=%g", strings.ToUpper(string(d.Channel())), r))
		}
	}
	if w := cfg.WhatsApp; w != nil {
		env = append(env, "WHATSAPP_ACCESS_TOKEN="+w.AccessToken, "WHATSAPP_PHONE_NUMBER_ID="+w.PhoneNumberID,
			"WHATSAPP_APP_SECRET="+w.AppSecret, "WHATSAPP_VERIFY_TOKEN="+w.VerifyToken, "WHATSAPP_API_URL="+w.APIURL)
	}
	if n := cfg.WhatsAppBusinessNumber; n != "" {
		env = append(env, "WHATSAPP_BUSINESS_NUMBER="+n)
	}
	if t := cfg.Twilio; t != nil {
		env = append(env, "TWILIO_ACCOUNT_SID="+t.AccountSID, "TWILIO_AUTH_TOKEN="+t.AuthToken,
			"TWILIO_FROM="+t.From, "TWILIO_API_URL="+t.APIURL)
	}
	if s := cfg.SendGrid; s != nil {
		env = append(env, "SENDGRID_API_KEY="+s.APIKey, "SENDGRID_FROM="+s.From, "SENDGRID_API_URL="+s.APIURL)
	}
	return env
}
