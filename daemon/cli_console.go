package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
)

func consoleCommands() []command {
	return []command{
		{name: "console link", args: "--org SLUG [--role owner|viewer] [--expires 24h]",
			summary: "create a one-time web console setup link; prints its URL (once)", run: runConsoleLink},
	}
}

// consoleLinkOut is the output of console link: the URL once, with the
// link's stored fields.
type consoleLinkOut struct {
	scimbridge.SetupLink
	URL string `json:"url"`
}

// consoleSetupURL is where a setup link's token opens the console.
func consoleSetupURL(publicURL, token string) string {
	return strings.TrimSuffix(publicURL, "/") + "/console/setup/" + token
}

func runConsoleLink(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("console link --org SLUG [--role owner|viewer] [--expires 24h]", true)
	slug := f.String("org", "", "organization `SLUG`")
	role := f.String("role", string(scimbridge.AdminOwner), "`ROLE`: owner (read and write) or viewer (read only)")
	expires := f.String("expires", "24h", "the link expires after `DURATION` (at most 7d)")
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
	d, err := configs.ParseDuration(*expires)
	if err != nil {
		return usagef(f.cmd, "invalid --expires: %v", err)
	}
	if ttl := d.Duration(); ttl <= 0 || ttl > admin.SetupLinkMaxTTL {
		return usagef(f.cmd, "invalid --expires %q: use a duration up to 7d", *expires)
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	token, l, err := s.admin.CreateSetupLink(ctx, s.by, admin.Principal{Operator: true}, *slug, r, d.Duration())
	if err != nil {
		return err
	}
	url := consoleSetupURL(s.cfg.PublicURL, token)
	if f.json {
		return writeJSON(c.stdout, consoleLinkOut{SetupLink: l, URL: url})
	}
	fmt.Fprintf(c.stdout, "Created a one-time %s setup link for %s. It is shown only now; opening it and pressing Sign in uses it up.\n\n",
		l.Role, *slug)
	return keyValues(c.stdout, "URL", url, "Expires", l.ExpiresAt.UTC().Format(time.RFC3339))
}
