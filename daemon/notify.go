package daemon

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	sdnotify "github.com/coreos/go-systemd/v22/daemon"
)

// notifier tells systemd about serve's state over $NOTIFY_SOCKET
// (sd_notify, Type=notify units): READY=1 once the database is migrated
// and the listeners are bound, STATUS= lines, WATCHDOG=1 pings and
// STOPPING=1. Outside systemd (no NOTIFY_SOCKET) every method does nothing.
type notifier struct {
	logger *slog.Logger
	// watchdog is WatchdogSec= as systemd passes it (WATCHDOG_USEC), zero
	// when the watchdog is off or watches another process.
	watchdog time.Duration
	// mu guards warned, set after the first failed notification so that
	// a broken socket is reported once, not on every ping.
	mu     sync.Mutex
	warned bool
}

// newNotifier reads the watchdog settings from the environment.
func newNotifier(logger *slog.Logger) *notifier {
	n := &notifier{logger: logger}
	wd, err := sdnotify.SdWatchdogEnabled(false)
	if err != nil {
		logger.Warn("systemd watchdog setting ignored", "err", err)
	}
	n.watchdog = wd
	return n
}

// pingInterval is how often the main loop pings the watchdog: half its
// timeout, as sd_watchdog_enabled(3) advises; zero when it is off.
func (n *notifier) pingInterval() time.Duration {
	return n.watchdog / 2
}

// send writes one notification made of the given assignments.
func (n *notifier) send(assignments ...string) {
	sent, err := sdnotify.SdNotify(false, strings.Join(assignments, "\n"))
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case err != nil && !n.warned:
		n.warned = true
		n.logger.Warn("notify systemd", "err", err)
	case sent:
		n.warned = false
	}
}

// ready says serve is ready, with a status line.
func (n *notifier) ready(status string) {
	n.send("READY=1", statusLine(status))
}

// status replaces the status line systemctl status shows.
func (n *notifier) status(status string) {
	n.send(statusLine(status))
}

// ping tells the watchdog the main loop is alive.
func (n *notifier) ping() {
	if n.watchdog > 0 {
		n.send("WATCHDOG=1")
	}
}

// keepAlive pings the watchdog in the background until the returned
// function is called: shutting down (draining requests, stopping a
// reconcile) can take longer than the watchdog timeout.
func (n *notifier) keepAlive() (stop func()) {
	if n.watchdog <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(n.pingInterval())
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n.ping()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// stopping says serve is shutting down.
func (n *notifier) stopping(status string) {
	n.send("STOPPING=1", statusLine(status))
}

// statusLine is a STATUS= assignment; the protocol is line-based, so the
// text keeps to one line.
func statusLine(s string) string {
	return "STATUS=" + strings.Join(strings.Fields(s), " ")
}
