// Command scimbridge is the scimbridge provisioning daemon and its
// administration command line. Everything happens in package daemon.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/scimbridge/scimbridge/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := daemon.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
