package daemon

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// HandleSignals is the process's signal handling, for main: the first
// SIGINT or SIGTERM cancels the returned context (serve then shuts down
// gracefully); a second one exits at once with status 128+signal; SIGHUP
// sends on reload (Process.Reload: serve reloads its configuration). stop
// restores the default handling.
func HandleSignals(parent context.Context, stderr io.Writer, exit func(code int)) (ctx context.Context, reload <-chan struct{}, stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	reloads := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		stopping := false
		for {
			var sig os.Signal
			select {
			case sig = <-sigs:
			case <-done:
				return
			}
			switch {
			case sig == syscall.SIGHUP:
				select {
				case reloads <- struct{}{}:
				default: // a reload is already pending
				}
			case !stopping:
				stopping = true
				cancel()
			default:
				fmt.Fprintf(stderr, "scimbridge: second %s: exiting at once\n", sig)
				code := 1
				if s, ok := sig.(syscall.Signal); ok {
					code = 128 + int(s)
				}
				exit(code)
				return
			}
		}
	}()
	return ctx, reloads, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
