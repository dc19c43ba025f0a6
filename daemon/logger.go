package daemon

import (
	"io"
	"log/slog"

	"github.com/scimbridge/scimbridge/configs"
)

// newLogger returns the process logger configured by cfg.Log, writing to w.
// minLevel raises the level (the one-shot commands log only warnings unless
// debug is asked for).
func newLogger(cfg configs.Log, w io.Writer, minLevel slog.Level) *slog.Logger {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	if level > slog.LevelDebug && minLevel > level {
		level = minLevel
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
