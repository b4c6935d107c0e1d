package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
)

// DataConverter returns the data converter of cfg's clients and workers:
// the SDK's default, with payloads encrypted by the codec when
// SWITCHBACK_ENCRYPTION_KEY is set.
func DataConverter(cfg config.Config) (converter.DataConverter, error) {
	if len(cfg.EncryptionKeys) == 0 {
		return converter.GetDefaultDataConverter(), nil
	}
	c, err := codec.New(cfg.EncryptionKeys)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBACK_ENCRYPTION_KEY: %w", err)
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// CodecEndpoint returns the URL of the codec endpoint for the Web UI and
// `temporal --codec-endpoint`, or "" when no encryption key is set.
func CodecEndpoint(cfg config.Config) string {
	if len(cfg.EncryptionKeys) == 0 {
		return ""
	}
	return cfg.PublicURLOrDefault() + codec.Prefix
}

// codecHandler serves the codec under codec.Prefix, or returns nil when no
// encryption key is set. Keys that config.FromEnv accepted always make a
// codec; other keys make a handler that answers 500.
func codecHandler(cfg config.Config, noAuth bool, logger *slog.Logger) http.Handler {
	if len(cfg.EncryptionKeys) == 0 {
		return nil
	}
	if cfg.CodecToken == "" && !noAuth && logger != nil {
		logger.Warn("the codec endpoint refuses every request until SWITCHBACK_CODEC_TOKEN is set", "path", codec.Prefix+"/")
	}
	c, err := codec.New(cfg.EncryptionKeys)
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "codec: SWITCHBACK_ENCRYPTION_KEY is not usable", http.StatusInternalServerError)
		})
	}
	return codec.NewHandler(c, codec.HandlerOptions{Token: cfg.CodecToken, NoAuth: noAuth, CORSOrigin: cfg.CodecCORSOrigin})
}
