package app

import (
	"log/slog"
	"net/http"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/console"
	"github.com/switchbackhq/switchback/store"
	"github.com/switchbackhq/switchback/templates"
)

// ConsoleOptions configure ConsoleHandler.
type ConsoleOptions struct {
	Client client.Client
	Config config.Config
	Store  store.Store
	Logger *slog.Logger
	// Exempt, if set, reports the requests that need no login (`dev`
	// without SWITCHBACK_CONSOLE_TOKEN: httpauth.Local).
	Exempt func(*http.Request) bool
}

// ConsoleHandler returns the web console (HTTPOptions.Console),
// configured from opts.Config.Console: its token, its user header, the
// Web UI it links to. The session cookie is Secure when the public URL is
// https. Without a token, a user header or Exempt, it answers 503.
func ConsoleHandler(opts ConsoleOptions) (http.Handler, error) {
	cfg := opts.Config
	dc, err := DataConverter(cfg)
	if err != nil {
		return nil, err
	}
	return console.New(console.Options{
		Client: opts.Client, DataConverter: dc, Namespace: cfg.TemporalNamespace,
		Store: opts.Store, ContactKey: cfg.ContactKeyOrDefault(), Channels: Channels(),
		Token: cfg.Console.Token, UserHeader: cfg.Console.UserHeader, Exempt: opts.Exempt,
		SecureCookie:  strings.HasPrefix(cfg.PublicURL, "https://"),
		TemporalUIURL: cfg.Console.TemporalUIURL,
		Logger:        opts.Logger,
		Templates:     TemplateRegistry(opts.Store), TemplateSync: templateSync(cfg),
	})
}

// templateSync is where a template sync reads from: WhatsApp's settings
// (the sandbox's under dev); nil without them.
func templateSync(cfg config.Config) *templates.SyncConfig {
	w := cfg.WhatsApp
	if w == nil {
		return nil
	}
	return &templates.SyncConfig{APIURL: w.APIURL, WABAID: w.WABAID, AccessToken: w.AccessToken}
}
