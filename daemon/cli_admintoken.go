package daemon

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
)

const adminTokenCreateUsage = "admin-token create (--org SLUG [--role owner|viewer|app] | --operator) [--name NAME] [--expires DURATION]"

func adminTokenCommands() []command {
	return []command{
		{name: "admin-token create", args: "(--org SLUG [--role owner|viewer|app] | --operator) [--name NAME] [--expires DURATION]",
			summary: "create an admin API token (or an operator token, every organization); prints it (once)", run: runAdminTokenCreate},
		{name: "admin-token list", args: "--org SLUG | --operator", summary: "list admin or operator tokens (never the tokens themselves)", run: runAdminTokenList},
		{name: "admin-token revoke", args: "(--org SLUG | --operator) ID", summary: "revoke an admin or operator token", run: runAdminTokenRevoke},
	}
}

// adminTokenOut is the output of admin-token create: the token once, with
// its listing fields.
type adminTokenOut struct {
	scimbridge.AdminToken
	Token string `json:"token"`
}

// orgOrOperator checks that exactly one of --org and --operator is given.
func orgOrOperator(f *flags, slug string, operator bool) error {
	switch {
	case operator && slug != "":
		return usagef(f.cmd, "give --org SLUG or --operator, not both")
	case operator:
		return nil
	}
	return requireOrg(f, slug)
}

func runAdminTokenCreate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags(adminTokenCreateUsage, true)
	slug := f.String("org", "", "organization `SLUG`")
	operator := f.Bool("operator", false, "an operator token (scbo_): every organization, admin API only")
	role := f.String("role", string(scimbridge.AdminOwner), "`ROLE`: owner (read and write), viewer (read only) or app (the directory and webhooks, API only)")
	name := f.String("name", "", "`NAME` saying what the token is for; events name it")
	expires := f.String("expires", "", "expire after `DURATION`, like 12h or 90d (default: never)")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := orgOrOperator(f, *slug, *operator); err != nil {
		return err
	}
	spec := admin.TokenSpec{Name: *name}
	if !*operator {
		spec.Role = scimbridge.AdminRole(*role)
		if r := spec.Role; r != scimbridge.AdminOwner && r != scimbridge.AdminViewer && r != scimbridge.AdminApp {
			return usagef(f.cmd, "invalid --role %q: use owner, viewer or app", *role)
		}
	}
	if *expires != "" {
		d, err := configs.ParseDuration(*expires)
		if err != nil {
			return usagef(f.cmd, "invalid --expires: %v", err)
		}
		if d <= 0 {
			return usagef(f.cmd, "invalid --expires %q: must be positive", *expires)
		}
		spec.Expires = d.Duration()
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	var token string
	var t scimbridge.AdminToken
	if *operator {
		token, t, err = s.admin.CreateOperatorToken(ctx, s.by, spec)
	} else {
		token, t, err = s.admin.CreateToken(ctx, s.by, *slug, spec)
	}
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, adminTokenOut{AdminToken: t, Token: token})
	}
	if *operator {
		fmt.Fprintf(c.stdout, "Created operator token %s (every organization, admin API only). The token is shown only now.\n\n", t.ID)
	} else {
		fmt.Fprintf(c.stdout, "Created %s admin token %s for %s. The token is shown only now.\n\n", t.Role, t.ID, *slug)
	}
	expiry := fmtTimePtr(t.ExpiresAt)
	if expiry == "" {
		expiry = "never"
	}
	return keyValues(c.stdout, "Token", token, "Expires", expiry)
}

func runAdminTokenList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("admin-token list --org SLUG | --operator", true)
	slug := f.String("org", "", "organization `SLUG`")
	operator := f.Bool("operator", false, "list the operator tokens")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := orgOrOperator(f, *slug, *operator); err != nil {
		return err
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	var tokens []scimbridge.AdminToken
	if *operator {
		tokens, err = s.db.OperatorTokens(ctx)
	} else {
		var org scimbridge.Organization
		if org, err = s.admin.Org(ctx, *slug); err != nil {
			return err
		}
		tokens, err = s.admin.AdminTokens(ctx, org)
	}
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	if f.json {
		if tokens == nil {
			tokens = []scimbridge.AdminToken{}
		}
		return writeJSON(c.stdout, tokens)
	}
	t := newTable(c.stdout, "ID", "PREFIX", "ROLE", "NAME", "CREATED", "EXPIRES", "REVOKED", "LAST USED")
	for _, a := range tokens {
		role := string(a.Role)
		if a.Operator {
			role = "operator"
		}
		t.row(a.ID, a.Prefix+"…", role, a.Name, fmtTime(a.CreatedAt), fmtTimePtr(a.ExpiresAt),
			fmtTimePtr(a.RevokedAt), fmtTimePtr(a.LastUsedAt))
	}
	return t.flush()
}

func runAdminTokenRevoke(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("admin-token revoke (--org SLUG | --operator) ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	operator := f.Bool("operator", false, "revoke an operator token")
	pos, err := c.parse(f, args, "ID")
	if err != nil {
		return err
	}
	if err := orgOrOperator(f, *slug, *operator); err != nil {
		return err
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	if *operator {
		err = s.admin.RevokeOperatorToken(ctx, s.by, pos[0])
	} else {
		err = s.admin.RevokeAdminToken(ctx, s.by, *slug, pos[0])
	}
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "operator": *operator, "id": pos[0], "revoked": true})
	}
	if *operator {
		fmt.Fprintf(c.stdout, "Revoked operator token %s.\n", pos[0])
	} else {
		fmt.Fprintf(c.stdout, "Revoked admin token %s of %s.\n", pos[0], *slug)
	}
	return nil
}
