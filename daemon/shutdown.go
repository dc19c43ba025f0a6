package daemon

import (
	"io"
	"log/slog"
	"time"
)

// closeFloor is the least time the database gets to close, even when the
// shutdown deadline has passed: closing a healthy pool takes milliseconds.
const closeFloor = time.Second

// waitBefore waits for done until deadline (at least closeFloor) and
// reports whether it closed; what is still running then is abandoned, so
// that a hung database cannot hold the process past its shutdown timeout.
func waitBefore(done <-chan struct{}, deadline time.Time, what string, logger *slog.Logger) bool {
	wait := max(time.Until(deadline), closeFloor)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		logger.Warn("shutdown: "+what+" still running after the shutdown timeout; exiting without it", "waited", wait.Round(time.Millisecond))
		return false
	}
}

// closeDatabase closes db before deadline (now plus timeout when the
// deadline is unset: serve stopped before it started serving).
// sql.DB.Close can wait on a connection the database no longer answers; a
// Close that outlives the deadline is left behind as the process exits.
func closeDatabase(db io.Closer, deadline time.Time, timeout time.Duration, logger *slog.Logger) {
	if deadline.IsZero() {
		deadline = time.Now().Add(timeout)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := db.Close(); err != nil {
			logger.Warn("close database failed", "err", err)
		}
	}()
	waitBefore(done, deadline, "closing the database", logger)
}
