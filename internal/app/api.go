package app

import (
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/client"

	"github.com/switchbackhq/switchback/internal/api"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/store"
)

// APIHandler returns the /v1 HTTP API on c, configured from cfg: the
// bearer token SWITCHBACK_API_TOKEN, and the data converter of c's
// payloads; broadcasts find their segments and deliveries in st. Calls for which exempt (if set) returns true need no token
// (`dev`: httpauth.Local).
func APIHandler(c client.Client, cfg config.Config, st store.Store, logger *slog.Logger, exempt func(*http.Request) bool) (http.Handler, error) {
	dc, err := DataConverter(cfg)
	if err != nil {
		return nil, err
	}
	return api.New(api.Options{
		Client: c, DataConverter: dc, Token: cfg.APIToken, Exempt: exempt,
		ContactKey: cfg.ContactKeyOrDefault(), Logger: logger, Channels: Channels(), Broadcasts: st,
		Events: st,
	}), nil
}
