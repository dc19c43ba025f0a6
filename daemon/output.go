package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
)

// session is an open configuration and database for one command.
type session struct {
	cfg    configs.Config
	db     database
	logger *slog.Logger
	// admin performs the command's admin operation; commands that need
	// the encryption key or a bridge runner set them.
	admin *admin.Admin
	// by is who runs the command: the OS user.
	by admin.Caller
}

// open loads the configuration and opens the database for a command other
// than serve and migrate. Close it with session.close.
func (c *cli) open(ctx context.Context, f *flags) (*session, error) {
	cfg, err := c.config(f)
	if err != nil {
		return nil, err
	}
	logger := newLogger(cfg.Log, c.stderr, slog.LevelWarn)
	db, err := openDatabase(ctx, cfg, logger, c.clock, openCommand)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(ctx, db, true); err != nil {
		db.Close()
		return nil, err
	}
	a := &admin.Admin{Store: db, Clock: c.clock, Logger: logger, Google: endpoints(cfg)}
	return &session{cfg: cfg, db: db, logger: logger, admin: a, by: cliCaller()}, nil
}

func (s *session) close() { s.db.Close() }

// openOrg opens a session and looks up the organization a per-organization
// command names with --org. The caller closes the session.
func (c *cli) openOrg(ctx context.Context, f *flags, slug string) (*session, scimbridge.Organization, error) {
	s, err := c.open(ctx, f)
	if err != nil {
		return nil, scimbridge.Organization{}, err
	}
	org, err := s.admin.Org(ctx, slug)
	if err != nil {
		s.close()
		return nil, scimbridge.Organization{}, err
	}
	return s, org, nil
}

// orgSession parses the flags and positional arguments of a
// per-organization command, checks --org, then opens the session and finds
// the organization. The caller closes the session.
func (c *cli) orgSession(ctx context.Context, f *flags, slug *string, args []string, names ...string) (*session, scimbridge.Organization, []string, error) {
	pos, err := c.parse(f, args, names...)
	if err != nil {
		return nil, scimbridge.Organization{}, nil, err
	}
	if err := requireOrg(f, *slug); err != nil {
		return nil, scimbridge.Organization{}, nil, err
	}
	s, org, err := c.openOrg(ctx, f, *slug)
	return s, org, pos, err
}

// adminSession parses the flags and positional arguments of a
// per-organization admin command, checks --org and opens the session; the
// admin operation finds the organization. The caller closes the session.
func (c *cli) adminSession(ctx context.Context, f *flags, slug *string, args []string, names ...string) (*session, []string, error) {
	pos, err := c.parse(f, args, names...)
	if err != nil {
		return nil, nil, err
	}
	if err := requireOrg(f, *slug); err != nil {
		return nil, nil, err
	}
	s, err := c.open(ctx, f)
	return s, pos, err
}

// cliUserAgent marks the events of actions taken from the command line.
const cliUserAgent = "scimbridge-cli"

// cliCaller is the command line run by this process's OS user, as admin
// events record it: actor "cli:<user>".
func cliCaller() admin.Caller {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = fmt.Sprintf("uid %d", os.Getuid())
	}
	return admin.Caller{Actor: admin.CLIActor(name), UserAgent: cliUserAgent}
}

// scimBaseURL is the SCIM base URL IdPs are given.
func (s *session) scimBaseURL() string {
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + scim.BasePath
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fmtTime formats a time for people, in UTC; "" for the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// fmtTimePtr formats an optional time; "" for nil.
func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

// keyValues writes "key: value" lines, aligned.
func keyValues(w io.Writer, kv ...string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], v)
	}
	return tw.Flush()
}
