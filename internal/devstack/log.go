package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger adapts the Temporal server's tag-based log.Logger to a
// *slog.Logger. Records below the level in state are dropped before their
// tags are converted, so a quiet server costs little.
type serverLogger struct {
	out   *slog.Logger
	state *logState
	tags  []slog.Attr // from With
}

// logState is shared by a serverLogger and every logger derived from it.
type logState struct {
	level slog.LevelVar
	// stopping is set when the server is being stopped: from then on, errors
	// caused by the cancellation of in-flight requests are dropped, since
	// they say nothing but "the server is stopping".
	stopping atomic.Bool
}

func newLogState(level slog.Level) *logState {
	st := new(logState)
	st.level.Set(level)
	return st
}

// quietStop raises the level to error and drops cancellation errors, for the
// server's shutdown.
func (st *logState) quietStop() {
	st.level.Set(slog.LevelError)
	st.stopping.Store(true)
}

var (
	_ log.Logger      = (*serverLogger)(nil)
	_ log.WithLogger  = (*serverLogger)(nil)
	_ log.SLogWrapper = (*serverLogger)(nil)
)

func newServerLogger(out *slog.Logger, state *logState) *serverLogger {
	if out == nil {
		out = slog.New(slog.DiscardHandler)
	}
	return &serverLogger{out: out, state: state}
}

func (l *serverLogger) Debug(msg string, tags ...tag.Tag) { l.log(slog.LevelDebug, msg, tags) }
func (l *serverLogger) Info(msg string, tags ...tag.Tag)  { l.log(slog.LevelInfo, msg, tags) }
func (l *serverLogger) Warn(msg string, tags ...tag.Tag)  { l.log(slog.LevelWarn, msg, tags) }
func (l *serverLogger) Error(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal are logged as errors: an embedded server must never
// take the whole process down.
func (l *serverLogger) DPanic(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }
func (l *serverLogger) Panic(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }
func (l *serverLogger) Fatal(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }

// With returns a logger that adds tags to every record.
func (l *serverLogger) With(tags ...tag.Tag) log.Logger {
	all := make([]slog.Attr, 0, len(l.tags)+len(tags))
	all = append(all, l.tags...)
	all = append(all, tagsToAttrs(tags)...)
	return &serverLogger{out: l.out, state: l.state, tags: all}
}

// SLog returns a *slog.Logger with the same destination and level, for server
// components that log through slog directly.
func (l *serverLogger) SLog() *slog.Logger {
	var args []any
	for _, a := range l.tags {
		args = append(args, a)
	}
	return slog.New(&levelHandler{Handler: l.out.Handler(), level: &l.state.level}).With(args...)
}

func (l *serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if level < l.state.level.Level() || !l.out.Enabled(ctx, level) {
		return
	}
	if l.state.stopping.Load() && isCancellation(tags) {
		return
	}
	attrs := make([]slog.Attr, 0, len(l.tags)+len(tags))
	attrs = append(attrs, l.tags...)
	attrs = append(attrs, tagsToAttrs(tags)...)
	l.out.LogAttrs(ctx, level, msg, attrs...)
}

// isCancellation reports whether the record's error is a cancelled context,
// which the server's persistence layer reports only as text.
func isCancellation(tags []tag.Tag) bool {
	for _, t := range tags {
		if t == nil || t.Key() != "error" {
			continue
		}
		if err, ok := t.Value().(error); ok && errors.Is(err, context.Canceled) {
			return true
		}
		if strings.Contains(fmt.Sprint(t.Value()), context.Canceled.Error()) {
			return true
		}
	}
	return false
}

func tagsToAttrs(tags []tag.Tag) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		if t == nil {
			continue
		}
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}

// levelHandler is a slog.Handler that drops records below a minimum level.
type levelHandler struct {
	slog.Handler
	level *slog.LevelVar
}

func (h *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.level.Level() && h.Handler.Enabled(ctx, level)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithAttrs(attrs), level: h.level}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithGroup(name), level: h.level}
}
