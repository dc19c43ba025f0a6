package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
)

func adminTokenCommands() []command {
	return []command{
		{name: "admin-token create", args: "--org SLUG [--role owner|viewer] [--expires DURATION]",
			summary: "create an admin API token; prints it (once)", run: runAdminTokenCreate},
		{name: "admin-token list", args: "--org SLUG", summary: "list admin tokens (never the tokens themselves)", run: runAdminTokenList},
		{name: "admin-token revoke", args: "--org SLUG ID", summary: "revoke an admin token", run: runAdminTokenRevoke},
	}
}

// adminTokenOut is the output of admin-token create: the token once, with
// its listing fields.
type adminTokenOut struct {
	scimbridge.AdminToken
	Token string `json:"token"`
}

func runAdminTokenCreate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("admin-token create --org SLUG [--role owner|viewer] [--expires DURATION]", true)
	slug := f.String("org", "", "organization `SLUG`")
	role := f.String("role", string(scimbridge.AdminOwner), "`ROLE`: owner (read and write) or viewer (read only)")
	expires := f.String("expires", "", "expire after `DURATION`, like 12h or 90d (default: never)")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	r := scimbridge.AdminRole(*role)
	if r != scimbridge.AdminOwner && r != scimbridge.AdminViewer {
		return usagef(f.cmd, "invalid --role %q: use owner or viewer", *role)
	}
	var ttl time.Duration
	if *expires != "" {
		d, err := configs.ParseDuration(*expires)
		if err != nil {
			return usagef(f.cmd, "invalid --expires: %v", err)
		}
		if d <= 0 {
			return usagef(f.cmd, "invalid --expires %q: must be positive", *expires)
		}
		ttl = d.Duration()
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	token, t, err := s.admin.CreateAdminToken(ctx, s.by, *slug, r, ttl)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, adminTokenOut{AdminToken: t, Token: token})
	}
	fmt.Fprintf(c.stdout, "Created %s admin token %s for %s. The token is shown only now.\n\n", t.Role, t.ID, *slug)
	expiry := fmtTimePtr(t.ExpiresAt)
	if expiry == "" {
		expiry = "never"
	}
	return keyValues(c.stdout, "Token", token, "Expires", expiry)
}

func runAdminTokenList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("admin-token list --org SLUG", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	tokens, err := s.db.AdminTokens(ctx, org.ID)
	if err != nil {
		return fmt.Errorf("list admin tokens: %w", err)
	}
	if f.json {
		if tokens == nil {
			tokens = []scimbridge.AdminToken{}
		}
		return writeJSON(c.stdout, tokens)
	}
	t := newTable(c.stdout, "ID", "PREFIX", "ROLE", "CREATED", "EXPIRES", "REVOKED", "LAST USED")
	for _, a := range tokens {
		t.row(a.ID, a.Prefix+"…", string(a.Role), fmtTime(a.CreatedAt), fmtTimePtr(a.ExpiresAt),
			fmtTimePtr(a.RevokedAt), fmtTimePtr(a.LastUsedAt))
	}
	return t.flush()
}

func runAdminTokenRevoke(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("admin-token revoke --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.admin.RevokeAdminToken(ctx, s.by, *slug, pos[0]); err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "id": pos[0], "revoked": true})
	}
	fmt.Fprintf(c.stdout, "Revoked admin token %s of %s.\n", pos[0], *slug)
	return nil
}
