package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// logTypical logs a line as the webhooks and activities do: a status with
// its ids, a recipient, counts and a duration.
func logTypical(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelInfo, "status delivered to journey",
		slog.String("provider", "twilio"),
		slog.String("workflow_id", "otp-7f3c2a10-6a4b-4d8e-9a51-1d2e3f405060"),
		slog.String("message_id", "SM0123456789abcdef0123456789abcdef"),
		slog.String("status", "delivered"),
		slog.String("to", "whatsapp:+15551234567"),
		slog.Int("attempt", 2),
		slog.Duration("took", 1500*time.Millisecond),
	)
}

// BenchmarkTypicalLine compares the masking handler with the JSON handler it
// wraps on one typical line; the ratio of their ns/op is masking's cost.
func BenchmarkTypicalLine(b *testing.B) {
	b.Run("slog.JSONHandler", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil)).With("component", "webhooks")
		b.ReportAllocs()
		for b.Loop() {
			logTypical(l)
		}
	})
	b.Run("masking", func(b *testing.B) {
		l := New(io.Discard, Options{Format: FormatJSON}).With("component", "webhooks")
		b.ReportAllocs()
		for b.Loop() {
			logTypical(l)
		}
	})
}
