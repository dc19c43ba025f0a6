package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge"
)

// opsHandler serves the ops listener: /healthz answers while the process
// runs; /readyz answers 200 only while the database is reachable and its
// schema current.
func opsHandler(db scimbridge.Store, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			logger.Warn("not ready", "err", err)
			writeText(w, http.StatusServiceUnavailable, "not ready: database unreachable or schema not current")
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body + "\n"))
}
