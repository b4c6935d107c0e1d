package main

import (
	"log/slog"

	"github.com/switchbackhq/switchback/internal/config"
	"github.com/switchbackhq/switchback/internal/logging"
)

// slogAdapter makes an slog.Logger the Temporal SDK's logger, one level
// down: the SDK's info lines become debug lines.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a *slogAdapter) Info(msg string, kv ...any)  { a.l.Debug(msg, kv...) }
func (a *slogAdapter) Warn(msg string, kv ...any)  { a.l.Warn(msg, kv...) }
func (a *slogAdapter) Error(msg string, kv ...any) { a.l.Error(msg, kv...) }

// newLogger returns the process's logger on stderr, in cfg's format (JSON
// unless SWITCHBACK_LOG_FORMAT=text) at cfg's level, with phone numbers and
// emails masked and secrets redacted.
func newLogger(e *env, cfg config.Config) *slog.Logger {
	return loggerFormat(e, cfg, logging.FormatJSON)
}

// newDevLogger is newLogger for `dev`, whose logs are text unless
// SWITCHBACK_LOG_FORMAT=json.
func newDevLogger(e *env, cfg config.Config) *slog.Logger {
	return loggerFormat(e, cfg, logging.FormatText)
}

// loggerFormat returns the process's logger in cfg's format, or in def when
// cfg names none.
func loggerFormat(e *env, cfg config.Config, def string) *slog.Logger {
	format := cfg.LogFormat
	if format == "" {
		format = def
	}
	return logging.New(e.stderr, logging.Options{Format: format, Level: cfg.LogLevel})
}
