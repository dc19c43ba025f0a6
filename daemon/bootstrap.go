package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

// Bootstrap names.
const (
	bootstrapOrg             = "default"
	bootstrapCredentialsFile = "bootstrap-credentials"
	// bootstrapActor is the actor of the bootstrap's admin events.
	bootstrapActor = "bootstrap"
)

// bootstrapper creates the default organization, its SCIM token and an
// owner admin token on the first start of an empty database, and hands the
// tokens to the operator.
type bootstrapper struct {
	db      scimbridge.Store
	clock   scimbridge.Clock
	logger  *slog.Logger
	stdout  io.Writer
	dataDir string
	baseURL string // SCIM base URL
}

// run is the bootstrap callback of Migrate.
func (b *bootstrapper) run(ctx context.Context) error {
	a := &admin.Admin{Store: b.db, Clock: b.clock, Logger: b.logger}
	by := admin.Caller{Actor: bootstrapActor}
	org, err := a.CreateOrg(ctx, by, bootstrapOrg, "Default")
	if err != nil {
		return err
	}
	scimToken, err := a.EnableSCIM(ctx, by, org.Slug)
	if err != nil {
		return err
	}
	adminToken, _, err := a.CreateAdminToken(ctx, by, org.Slug, scimbridge.AdminOwner, 0)
	if err != nil {
		return err
	}
	text := fmt.Sprintf(`# scimbridge bootstrap credentials, created %s.
# They are shown only here: store them safely, then delete this file.
organization: %s
scim_base_url: %s
scim_token: %s
admin_token: %s
`, b.clock().UTC().Format("2006-01-02T15:04:05Z"), org.Slug, b.baseURL, scimToken, adminToken)

	if isTerminal(b.stdout) {
		fmt.Fprintf(b.stdout, "\n%s\n", text)
		b.logger.Info("bootstrap: created organization with SCIM and admin tokens; printed them on the terminal", "org", org.Slug)
		return nil
	}
	path := filepath.Join(b.dataDir, bootstrapCredentialsFile)
	if err := writeSecretFile(path, text); err != nil {
		return err
	}
	b.logger.Info("bootstrap: created organization with SCIM and admin tokens; credentials written to file", "org", org.Slug, "path", path)
	return nil
}

// writeSecretFile writes text to path with mode 0600, creating its
// directory with mode 0700.
func writeSecretFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write bootstrap credentials: %w", err)
	}
	// An existing file keeps its mode on open: tighten it first.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write bootstrap credentials: %w", err)
	}
	if _, err := io.Copy(f, strings.NewReader(text)); err != nil {
		f.Close()
		return fmt.Errorf("write bootstrap credentials: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write bootstrap credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write bootstrap credentials: %w", err)
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
