// Package daemon is the scimbridge process: it parses the command line,
// loads the configuration, opens the store and either runs the long-lived
// server (serve: Server) or performs one command (org, scim, profiles,
// admin-token, events, ...), whose changes package admin makes. It is the
// only package that wires the others together; cmd/scimbridge only hands it
// the process's signal context, arguments, environment, standard streams
// and SIGHUP reload requests.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
)

// Exit codes returned by Run.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad command line or configuration; nothing was done
	ExitHeld    = 3 // a bridge run held changes that wait for approval
)

// Process is what the process hands a command: its arguments (without
// the program name), environment, standard streams and reload requests.
type Process struct {
	Args []string
	// Getenv supplies the SCIMBRIDGE_* configuration variables and the
	// data directory's environment; nil reads nothing.
	Getenv func(string) string
	Stdin  io.Reader
	// Stdout receives the command's output, Stderr messages and logs.
	Stdout io.Writer
	Stderr io.Writer
	// Reload receives once per SIGHUP (HandleSignals): serve then reloads
	// its configuration. Nil for none.
	Reload <-chan struct{}
	// IsTerminal says whether a stream is a terminal (progress is shown
	// only there); nil checks the stream's file descriptor.
	IsTerminal func(io.Writer) bool
}

// Run executes the command line of p and returns the process exit code.
func Run(ctx context.Context, p Process) int {
	getenv := p.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	offset := testDuration(getenv, envTestClockOffset)
	if p.IsTerminal == nil {
		p.IsTerminal = isTerminal
	}
	c := &cli{
		getenv:     getenv,
		stdin:      p.Stdin,
		stdout:     p.Stdout,
		stderr:     p.Stderr,
		reload:     p.Reload,
		isTerminal: p.IsTerminal,
		clock:      func() time.Time { return time.Now().UTC().Add(offset) },
	}
	err := c.run(ctx, versionFlag(p.Args))
	return c.exit(err)
}

// exit reports err on stderr and maps it to an exit code.
func (c *cli) exit(err error) int {
	var ue *usageError
	var ve *configs.ValidationError
	var ce *configError
	var he *heldError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "scimbridge: %s\n", ue.msg)
		if ue.usage != "" {
			fmt.Fprintf(c.stderr, "usage: scimbridge %s\n", ue.usage)
		}
		fmt.Fprintln(c.stderr, "Run 'scimbridge help' for the list of commands.")
		return ExitUsage
	case errors.As(err, &ve):
		fmt.Fprintf(c.stderr, "scimbridge: invalid configuration (%s):\n", plural(len(ve.Problems), "problem", "problems"))
		for _, p := range ve.Problems {
			fmt.Fprintf(c.stderr, "  %s\n", p)
		}
		return ExitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(c.stderr, "scimbridge: %s\n", errorText(ce.err))
		return ExitUsage
	case errors.As(err, &he):
		fmt.Fprintf(c.stderr, "scimbridge: %s\n", he.Error())
		return ExitHeld
	default:
		fmt.Fprintf(c.stderr, "scimbridge: %s\n", errorText(err))
		return ExitFailure
	}
}

// errorText is err as shown to the operator: the message of a
// *scimbridge.Error when there is one (it reads better than the code
// prefix), the full chain otherwise.
func errorText(err error) string {
	var e *scimbridge.Error
	if errors.As(err, &e) && e.Code != scimbridge.EINTERNAL && e.Err == nil && err == error(e) {
		return e.Message
	}
	return strings.TrimSpace(err.Error())
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct {
	msg   string
	usage string // the command's synopsis, when known
}

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError for the command with synopsis usage.
func usagef(usage, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), usage: usage}
}

// errHelp is returned after -h printed the usage: exit code 0.
var errHelp = errors.New("help requested")
