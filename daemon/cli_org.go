package daemon

import (
	"context"
	"flag"
	"fmt"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

func orgCommands() []command {
	return []command{
		{name: "org create", args: "SLUG [--name NAME]", summary: "create an organization", run: runOrgCreate},
		{name: "org list", summary: "list organizations", run: runOrgList},
		{name: "org set", args: "SLUG --adopt-existing=true|false", summary: "change an organization's settings", run: runOrgSet},
	}
}

func runOrgCreate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("org create SLUG [--name NAME]", true)
	name := f.String("name", "", "display `NAME` (default: the slug)")
	pos, err := c.parse(f, args, "SLUG")
	if err != nil {
		return err
	}
	slug := pos[0]
	if err := scimbridge.CheckSlug(slug); err != nil {
		return usagef(f.cmd, "%s", scimbridge.ErrorMessage(err))
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	org, err := s.admin.CreateOrg(ctx, s.by, slug, *name)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, org)
	}
	fmt.Fprintf(c.stdout, "Created organization %s.\n", org.Slug)
	return keyValues(c.stdout, "slug", org.Slug, "name", org.Name, "id", org.ID, "created", fmtTime(org.CreatedAt))
}

func runOrgList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("org list", true)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	orgs, err := s.db.Organizations(ctx)
	if err != nil {
		return fmt.Errorf("list organizations: %w", err)
	}
	if f.json {
		if orgs == nil {
			orgs = []scimbridge.Organization{}
		}
		return writeJSON(c.stdout, orgs)
	}
	t := newTable(c.stdout, "SLUG", "NAME", "ID", "CREATED")
	for _, o := range orgs {
		t.row(o.Slug, o.Name, o.ID, fmtTime(o.CreatedAt))
	}
	return t.flush()
}

func runOrgSet(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("org set SLUG --adopt-existing=true|false", true)
	adopt := f.Bool("adopt-existing", true, "let SCIM and the bridge adopt matching manual and SAML profiles")
	pos, err := c.parse(f, args, "SLUG")
	if err != nil {
		return err
	}
	slug := pos[0]
	if err := scimbridge.CheckSlug(slug); err != nil {
		return usagef(f.cmd, "%s", scimbridge.ErrorMessage(err))
	}
	var change admin.OrgChange
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == "adopt-existing" {
			change.AdoptExisting = adopt
		}
	})
	if change.AdoptExisting == nil {
		return usagef(f.cmd, "nothing to set: give --adopt-existing=true or --adopt-existing=false")
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	org, err := s.admin.SetOrg(ctx, s.by, slug, change)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, org)
	}
	fmt.Fprintf(c.stdout, "Organization %s updated.\n", org.Slug)
	return keyValues(c.stdout, "slug", org.Slug, "adopt existing", fmt.Sprint(org.AdoptExisting))
}
