package app

import (
	"log/slog"
	"net/http"

	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
)

// CodecEndpoint returns the URL of the codec endpoint for the Web UI and
// `temporal --codec-endpoint`, or "" when no encryption key is set.
func CodecEndpoint(cfg config.Config) string {
	if len(cfg.EncryptionKeys) == 0 {
		return ""
	}
	return cfg.PublicURLOrDefault() + codec.Prefix
}

// codecHandler serves the codec under codec.Prefix, or returns nil when no
// encryption key is set. Requests for which exempt (if set) returns true
// need no token. Keys that config.FromEnv accepted always make a codec;
// other keys make a handler that answers 500.
func codecHandler(cfg config.Config, exempt func(*http.Request) bool, logger *slog.Logger) http.Handler {
	if len(cfg.EncryptionKeys) == 0 {
		return nil
	}
	if cfg.CodecToken == "" && exempt == nil && logger != nil {
		logger.Warn("the codec endpoint refuses every request until SWITCHBACK_CODEC_TOKEN is set", "path", codec.Prefix+"/")
	}
	c, err := newCodec(cfg)
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "codec: SWITCHBACK_ENCRYPTION_KEY is not usable", http.StatusInternalServerError)
		})
	}
	return codec.NewHandler(c, codec.HandlerOptions{Token: cfg.CodecToken, Exempt: exempt, CORSOrigin: cfg.CodecCORSOrigin})
}
