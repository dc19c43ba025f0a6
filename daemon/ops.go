package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge"
)

// readyTimeout bounds the database check of one /readyz request.
const readyTimeout = 2 * time.Second

// opsHandler serves the ops listener: /healthz answers 200 while the
// process runs; /readyz answers 200 only while the database is reachable,
// its schema current and serve not shutting down (stopping set); /metrics
// serves metrics (nil: not served).
func opsHandler(db scimbridge.Store, logger *slog.Logger, metrics http.Handler, stopping *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if stopping != nil && stopping.Load() {
			writeText(w, http.StatusServiceUnavailable, "not ready: shutting down")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			logger.Warn("not ready", "err", err)
			writeText(w, http.StatusServiceUnavailable, "not ready: database unreachable or schema not current")
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body + "\n"))
}
