package daemon

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// reloadKey is the context key of the SIGHUP channel.
type reloadKey struct{}

// WithReload returns a context carrying ch: serve reloads its
// configuration each time ch receives.
func WithReload(ctx context.Context, ch <-chan struct{}) context.Context {
	return context.WithValue(ctx, reloadKey{}, ch)
}

// reloadRequests returns the channel WithReload put in ctx, or nil.
func reloadRequests(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(reloadKey{}).(<-chan struct{})
	return ch
}

// HandleSignals is the process's signal handling, for main: the first
// SIGINT or SIGTERM cancels the returned context (serve then shuts down
// gracefully); a second one exits at once with status 128+signal; SIGHUP
// asks serve to reload its configuration (WithReload). stop restores the
// default handling.
func HandleSignals(parent context.Context, stderr io.Writer, exit func(code int)) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(WithReload(parent, reload))
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
				case reload <- struct{}{}:
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
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
