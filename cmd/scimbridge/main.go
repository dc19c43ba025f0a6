// Command scimbridge is the scimbridge provisioning daemon and its
// administration command line. Everything happens in package daemon.
package main

import (
	"context"
	"os"

	"github.com/scimbridge/scimbridge/daemon"
)

func main() {
	// SIGINT/SIGTERM stop gracefully, a second one exits at once, SIGHUP
	// reloads serve's configuration.
	ctx, reload, stop := daemon.HandleSignals(context.Background(), os.Stderr, os.Exit)
	code := daemon.Run(ctx, daemon.Process{Args: os.Args[1:], Getenv: os.Getenv,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Reload: reload})
	stop()
	os.Exit(code)
}
