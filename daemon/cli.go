package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
)

// command is one CLI command, such as "scim enable".
type command struct {
	// name is the command's words: "org create".
	name string
	// args is the synopsis after the name: "SLUG [--name NAME]".
	args    string
	summary string
	// run executes the command with the arguments after its name.
	run func(ctx context.Context, c *cli, args []string) error
}

func (cmd command) usage() string {
	if cmd.args == "" {
		return cmd.name
	}
	return cmd.name + " " + cmd.args
}

// commands is the command table. Each group lives in its own file
// (cli_*.go) and returns its entries; add a group here to add commands.
func commands() []command {
	return slices.Concat(
		serveCommands(),
		orgCommands(),
		scimCommands(),
		profileCommands(),
		groupCommands(),
		changesCommands(),
		adminTokenCommands(),
		eventCommands(),
		webhookCommands(),
		bridgeCommands(), // bridge, reports, keys: cli_bridge.go
		versionCommands(),
	)
}

// cli is one invocation of the command line: the process's environment and
// streams.
type cli struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	reload <-chan struct{} // SIGHUP, for serve
	clock  scimbridge.Clock
	// isTerminal says whether a stream is a terminal.
	isTerminal func(io.Writer) bool
}

// run finds the command named by the leading words of args and runs it.
func (c *cli) run(ctx context.Context, args []string) error {
	// Flags before the command: only --config (and help) are accepted
	// there; they are handed on to the command.
	var pre []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; {
		case isHelpFlag(a):
			c.help(c.stdout, "")
			return errHelp
		case a == "-config" || a == "--config":
			if len(args) < 2 {
				return usagef("", "flag needs an argument: %s", a)
			}
			pre, args = append(pre, a, args[1]), args[2:]
		case strings.HasPrefix(a, "-config=") || strings.HasPrefix(a, "--config="):
			pre, args = append(pre, a), args[1:]
		default:
			return usagef("", "unknown flag %s before the command", a)
		}
	}
	if len(args) == 0 {
		c.help(c.stderr, "")
		return &usageError{msg: "no command given"}
	}
	if args[0] == "help" {
		c.help(c.stdout, strings.Join(args[1:], " "))
		return errHelp
	}
	cmds := commands()
	var best *command
	for i := range cmds {
		words := strings.Fields(cmds[i].name)
		if len(words) <= len(args) && slices.Equal(words, args[:len(words)]) {
			if best == nil || len(words) > len(strings.Fields(best.name)) {
				best = &cmds[i]
			}
		}
	}
	if best == nil {
		// The longest group the leading words name: "bridge google".
		for n := len(args); n > 0; n-- {
			group := strings.Join(args[:n], " ")
			if !c.hasGroup(group) {
				continue
			}
			switch {
			case len(args) > n && isHelpFlag(args[n]):
				c.help(c.stdout, group)
				return errHelp
			case len(args) == n:
				c.help(c.stderr, group)
				return &usageError{msg: fmt.Sprintf("%s: missing subcommand", group)}
			}
			c.help(c.stderr, group)
			return &usageError{msg: fmt.Sprintf("unknown command %q", group+" "+args[n])}
		}
		return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
	}
	rest := args[len(strings.Fields(best.name)):]
	return best.run(ctx, c, append(pre, rest...))
}

// isHelpFlag reports whether the argument asks for help.
func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// hasGroup reports whether some command's name starts with the word.
func (c *cli) hasGroup(word string) bool {
	for _, cmd := range commands() {
		if strings.HasPrefix(cmd.name, word+" ") {
			return true
		}
	}
	return false
}

// help writes the list of commands, or those whose name starts with prefix
// with their synopses.
func (c *cli) help(w io.Writer, prefix string) {
	fmt.Fprintln(w, "scimbridge: SCIM 2.0 provisioning server and Google Workspace bridge")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: scimbridge COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	var matched []command
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cmd := range commands() {
		if prefix == "" || cmd.name == prefix || strings.HasPrefix(cmd.name, prefix+" ") {
			fmt.Fprintf(tw, "  %s\t%s\n", cmd.name, cmd.summary)
			matched = append(matched, cmd)
		}
	}
	tw.Flush()
	if prefix != "" {
		fmt.Fprintln(w)
		for _, cmd := range matched {
			fmt.Fprintf(w, "  scimbridge %s\n", cmd.usage())
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --config FILE (YAML) and reads SCIMBRIDGE_* environment")
	fmt.Fprintln(w, "variables; --json prints machine-readable output. 'scimbridge help GROUP'")
	fmt.Fprintln(w, "shows a group's synopses, 'scimbridge COMMAND -h' a command's flags.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit status: 0 success; 1 failure; 2 bad command line or configuration;")
	fmt.Fprintln(w, "3 a bridge run (bridge sync, reports approve) held changes for approval.")
}

// flags is a command's flag set, with the --config and --json flags every
// command takes.
type flags struct {
	*flag.FlagSet
	cmd    string // synopsis, for messages
	config string
	json   bool
}

// newFlags returns the flag set of the command with the given synopsis.
// Commands whose output has no JSON form pass json=false.
func (c *cli) newFlags(usage string, json bool) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(usage, flag.ContinueOnError), cmd: usage}
	f.SetOutput(io.Discard)
	f.StringVar(&f.config, "config", "", "read the configuration from `FILE` (YAML)")
	if json {
		f.BoolVar(&f.json, "json", false, "print JSON for scripts")
	}
	return f
}

// parse parses args, flags and positional arguments in any order, and
// checks there is one positional argument for each name.
func (c *cli) parse(f *flags, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.flagHelp(c.stdout, f)
				return nil, errHelp
			}
			return nil, usagef(f.cmd, "%v", err)
		}
		rest := f.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) < len(names):
		return nil, usagef(f.cmd, "missing %s", names[len(pos)])
	case len(pos) > len(names):
		return nil, usagef(f.cmd, "unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

// flagHelp writes a command's synopsis and flags, spelled with two dashes
// as the synopses spell them.
func (c *cli) flagHelp(w io.Writer, f *flags) {
	fmt.Fprintf(w, "usage: scimbridge %s\n\nFlags:\n", f.cmd)
	f.VisitAll(func(fl *flag.Flag) {
		name, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch fl.DefValue {
		case "", "0", "false":
		default:
			fmt.Fprintf(w, " (default %s)", fl.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// config loads and validates the configuration named by the --config flag
// and the environment.
func (c *cli) config(f *flags) (configs.Config, error) {
	cfg, err := configs.Load(f.config, c.getenv)
	var ve *configs.ValidationError
	if err != nil && !errors.As(err, &ve) {
		// A configuration file that is missing or unreadable is a
		// configuration problem like an invalid key: exit 2.
		return cfg, &configError{err: err}
	} else if err != nil {
		return cfg, err
	}
	// Commands find the PostgreSQL password where serve does (systemd
	// credentials), so `systemd-run -p LoadCredential=...` works for them.
	return withDatabasePassword(cfg, c.getenv)
}

// configError is a configuration that cannot be read: exit code 2.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// plural is "1 problem" or "2 problems".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// requireOrg checks the --org flag was given and is a valid slug.
func requireOrg(f *flags, slug string) error {
	if slug == "" {
		return usagef(f.cmd, "--org SLUG is required")
	}
	if err := scimbridge.CheckSlug(slug); err != nil {
		return usagef(f.cmd, "%s", scimbridge.ErrorMessage(err))
	}
	return nil
}
