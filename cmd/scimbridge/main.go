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
	ctx, stop := daemon.HandleSignals(context.Background(), os.Stderr, os.Exit)
	code := daemon.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
