package main

import (
	"log/slog"
)

// slogAdapter makes an slog.Logger the Temporal SDK's logger, one level
// down: the SDK's info lines become debug lines.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) Debug(msg string, kv ...any) { a.l.Debug(msg, kv...) }
func (a *slogAdapter) Info(msg string, kv ...any)  { a.l.Debug(msg, kv...) }
func (a *slogAdapter) Warn(msg string, kv ...any)  { a.l.Warn(msg, kv...) }
func (a *slogAdapter) Error(msg string, kv ...any) { a.l.Error(msg, kv...) }

// newLogger returns the process's text logger at info level.
func newLogger(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
