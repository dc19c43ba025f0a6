package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

func scimCommands() []command {
	return []command{
		{name: "scim enable", args: "--org SLUG", summary: "enable SCIM; prints the base URL and token (once)", run: runSCIMEnable},
		{name: "scim regenerate-token", args: "--org SLUG", summary: "replace the SCIM token; the old one stops working", run: runSCIMRegenerate},
		{name: "scim status", args: "--org SLUG", summary: "show whether SCIM is enabled and when the token was used", run: runSCIMStatus},
		{name: "scim disable", args: "--org SLUG", summary: "delete the SCIM configuration (profiles stay SCIM-managed)", run: runSCIMDisable},
	}
}

// scimToken is the output of scim enable and regenerate-token.
type scimToken struct {
	Org     string `json:"org"`
	BaseURL string `json:"base_url"`
	Token   string `json:"token"`
}

func runSCIMEnable(ctx context.Context, c *cli, args []string) error {
	return runSCIMToken(ctx, c, args, "scim enable --org SLUG", false)
}

func runSCIMRegenerate(ctx context.Context, c *cli, args []string) error {
	return runSCIMToken(ctx, c, args, "scim regenerate-token --org SLUG", true)
}

func runSCIMToken(ctx context.Context, c *cli, args []string, usage string, regenerate bool) error {
	f := c.newFlags(usage, true)
	slug := f.String("org", "", "organization `SLUG`")
	s, _, err := c.adminSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	var token string
	if regenerate {
		token, err = s.admin.RegenerateSCIMToken(ctx, s.by, *slug)
	} else {
		token, err = s.admin.EnableSCIM(ctx, s.by, *slug)
	}
	switch {
	case errors.Is(err, admin.ErrSCIMEnabled):
		return scimbridge.Errorf(scimbridge.ECONFLICT,
			"SCIM is already enabled for %q: use 'scimbridge scim regenerate-token --org %s' for a new token", *slug, *slug)
	case errors.Is(err, admin.ErrSCIMDisabled):
		return scimbridge.Errorf(scimbridge.ENOTFOUND,
			"SCIM is not enabled for %q: use 'scimbridge scim enable --org %s'", *slug, *slug)
	case err != nil:
		return err
	}
	out := scimToken{Org: *slug, BaseURL: s.scimBaseURL(), Token: token}
	if f.json {
		return writeJSON(c.stdout, out)
	}
	if regenerate {
		fmt.Fprintf(c.stdout, "New SCIM token for %s; the previous token no longer works.\n", out.Org)
	} else {
		fmt.Fprintf(c.stdout, "SCIM enabled for %s.\n", out.Org)
	}
	fmt.Fprintln(c.stdout, "Give your identity provider these values. The token is shown only now.")
	fmt.Fprintln(c.stdout)
	return keyValues(c.stdout, "SCIM base URL", out.BaseURL, "Token", out.Token)
}

// scimStatus is the output of scim status; it never holds the token.
type scimStatus struct {
	Org        string     `json:"org"`
	Enabled    bool       `json:"enabled"`
	BaseURL    string     `json:"base_url"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	RotatedAt  *time.Time `json:"rotated_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func runSCIMStatus(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("scim status --org SLUG", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	sc, ok, err := s.admin.SCIMConfig(ctx, org)
	if err != nil {
		return err
	}
	st := scimStatus{Org: org.Slug, Enabled: ok, BaseURL: s.scimBaseURL()}
	if ok {
		created := sc.CreatedAt
		st.CreatedAt, st.RotatedAt, st.LastUsedAt = &created, sc.RotatedAt, sc.LastUsedAt
	}
	if f.json {
		return writeJSON(c.stdout, st)
	}
	if !ok {
		fmt.Fprintf(c.stdout, "SCIM is not enabled for %s. Enable it with 'scimbridge scim enable --org %s'.\n", org.Slug, org.Slug)
		return nil
	}
	lastUsed := fmtTimePtr(sc.LastUsedAt)
	if lastUsed == "" {
		lastUsed = "never"
	}
	rotated := fmtTimePtr(sc.RotatedAt)
	if rotated == "" {
		rotated = "never"
	}
	return keyValues(c.stdout,
		"organization", org.Slug,
		"SCIM", "enabled",
		"base URL", st.BaseURL,
		"created", fmtTime(sc.CreatedAt),
		"token rotated", rotated,
		"token last used", lastUsed)
}

func runSCIMDisable(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("scim disable --org SLUG", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, _, err := c.adminSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	err = s.admin.DisableSCIM(ctx, s.by, *slug)
	if errors.Is(err, admin.ErrSCIMDisabled) {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "SCIM is not enabled for %q", *slug)
	} else if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "enabled": false})
	}
	fmt.Fprintf(c.stdout, "SCIM disabled for %s: the token no longer works. Profiles stay SCIM-managed;\n", *slug)
	fmt.Fprintf(c.stdout, "'scimbridge profiles release --org %s --source scim' makes them manual.\n", *slug)
	return nil
}
