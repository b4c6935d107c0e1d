package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/switchbackhq/switchback/internal/codec"
	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/keys"
	"github.com/switchbackhq/switchback/internal/telemetry"
)

// ClientOptions are the options of every Temporal client cfg makes, and of
// its workers: the address and namespace; TLS and the API key
// (SWITCHBACK_TEMPORAL_TLS_*, SWITCHBACK_TEMPORAL_API_KEY); payloads and
// failures encrypted with SWITCHBACK_ENCRYPTION_KEY; logs to logger (nil:
// the SDK's default); metrics and traces to tel (nil: nowhere).
func ClientOptions(cfg config.Config, logger sdklog.Logger, tel *telemetry.Telemetry) (client.Options, error) {
	dc, err := DataConverter(cfg)
	if err != nil {
		return client.Options{}, err
	}
	opts := client.Options{
		HostPort:         cfg.TemporalAddress,
		Namespace:        cfg.TemporalNamespace,
		Logger:           logger,
		DataConverter:    dc,
		FailureConverter: FailureConverter(dc),
	}
	if opts.ConnectionOptions.TLS, err = TemporalTLS(cfg.TemporalTLS); err != nil {
		return client.Options{}, err
	}
	if cfg.TemporalAPIKey != "" {
		// Over TLS, always: the SDK turns it on for an API key.
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	if tel != nil {
		if err := tel.Instrument(&opts); err != nil {
			return client.Options{}, err
		}
	}
	return opts, nil
}

// WithKeys fills the keys cfg lacks from p (dev's data directory, or a
// fresh pair for a test or the benchmark).
func WithKeys(cfg config.Config, p keys.Pair) (config.Config, error) {
	if len(cfg.EncryptionKeys) == 0 && p.Encryption != "" {
		k, err := codec.ParseKeys(p.Encryption)
		if err != nil {
			return config.Config{}, fmt.Errorf("%s in %s: %w", keys.EncryptionFile, cfg.DataDir, err)
		}
		cfg.EncryptionKeys = k
	}
	if cfg.ContactKey == "" {
		cfg.ContactKey = p.Contact
	}
	return cfg, nil
}

// DataConverter returns the data converter of cfg's clients and workers:
// the SDK's default, with payloads encrypted by the codec when
// SWITCHBACK_ENCRYPTION_KEY is set.
func DataConverter(cfg config.Config) (converter.DataConverter, error) {
	if len(cfg.EncryptionKeys) == 0 {
		return converter.GetDefaultDataConverter(), nil
	}
	c, err := newCodec(cfg)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// FailureConverter returns the failure converter that goes with dc: a
// failure's message and stack trace travel as an encoded payload, so
// provider error texts (which may quote a number) are encrypted like any
// payload.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// newCodec is the payload codec of cfg's encryption keys.
func newCodec(cfg config.Config) (*codec.Codec, error) {
	c, err := codec.New(cfg.EncryptionKeys, codec.Options{AllowPlaintext: cfg.InsecurePlaintext})
	if err != nil {
		return nil, fmt.Errorf("SWITCHBACK_ENCRYPTION_KEY: %w", err)
	}
	return c, nil
}

// TemporalTLS returns the TLS configuration of the Temporal connection, or
// nil for plain gRPC when t sets nothing. Errors name the variable whose
// file is missing or wrong.
func TemporalTLS(t config.TemporalTLS) (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	tc := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBACK_TEMPORAL_TLS_CERT / SWITCHBACK_TEMPORAL_TLS_KEY: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBACK_TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SWITCHBACK_TEMPORAL_TLS_CA: %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
