package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// groupPage is how many groups a listing reads at a time.
const groupPage = 500

// memberPage is how many members are read at a time.
const memberPage = 1000

func groupCommands() []command {
	return []command{
		{name: "groups list", args: "--org SLUG [--source S]",
			summary: "list groups; --json prints SCIM Group resources", run: runGroupsList},
		{name: "groups show", args: "--org SLUG ID|DISPLAYNAME", summary: "show one group and its members", run: runGroupsShow},
	}
}

func runGroupsList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("groups list --org SLUG [--source S]", true)
	slug := f.String("org", "", "organization `SLUG`")
	source := f.String("source", "", "only groups managed by `SOURCE`: manual, scim or google")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	q := scimbridge.GroupQuery{Limit: groupPage}
	if *source != "" {
		src, err := parseSource(f, *source, scimbridge.SourceManual, scimbridge.SourceSCIM, scimbridge.SourceGoogle)
		if err != nil {
			return err
		}
		q.Sources = []scimbridge.Source{src}
	}
	s, org, err := c.openOrg(ctx, f, *slug)
	if err != nil {
		return err
	}
	defer s.close()
	q.OrgID = org.ID

	var pj *profileJSON // its array framing; groups are written as raw resources
	var t *table
	if f.json {
		pj = &profileJSON{w: c.stdout}
	} else {
		t = newTable(c.stdout, "ID", "DISPLAYNAME", "SOURCE", "MEMBERS")
	}
	for {
		page, err := s.db.ListGroups(ctx, q)
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		for _, g := range page.Groups {
			if pj != nil {
				members, err := allGroupMembers(ctx, s.db, g)
				if err != nil {
					return err
				}
				b, err := groupResource(g, members, s.scimBaseURL())
				if err != nil {
					return err
				}
				if err := writeArrayItem(pj, b); err != nil {
					return err
				}
				continue
			}
			n, err := countGroupMembers(ctx, s.db, g)
			if err != nil {
				return err
			}
			t.row(g.ID, g.DisplayName, string(g.Source), fmt.Sprint(n))
		}
		q.Offset += len(page.Groups)
		if len(page.Groups) < q.Limit || q.Offset >= page.Total {
			break
		}
	}
	if pj != nil {
		return pj.close()
	}
	return t.flush()
}

// writeArrayItem writes one compact JSON value of the array pj frames.
func writeArrayItem(pj *profileJSON, b []byte) error {
	sep := ",\n  "
	if pj.n == 0 {
		sep = "[\n  "
	}
	pj.n++
	if _, err := io.WriteString(pj.w, sep); err != nil {
		return fmt.Errorf("write groups: %w", err)
	}
	if _, err := pj.w.Write(b); err != nil {
		return fmt.Errorf("write groups: %w", err)
	}
	return nil
}

// allGroupMembers reads every member of g a page at a time; the SCIM
// encoder takes them at once, as the SCIM API does.
func allGroupMembers(ctx context.Context, db scimbridge.Store, g scimbridge.Group) ([]scimbridge.GroupMember, error) {
	var all []scimbridge.GroupMember
	err := eachMemberPage(ctx, db, g, func(ms []scimbridge.GroupMember) error {
		all = append(all, ms...)
		return nil
	})
	return all, err
}

// countGroupMembers counts g's members without holding more than a page.
func countGroupMembers(ctx context.Context, db scimbridge.Store, g scimbridge.Group) (int, error) {
	n := 0
	err := eachMemberPage(ctx, db, g, func(ms []scimbridge.GroupMember) error {
		n += len(ms)
		return nil
	})
	return n, err
}

// eachMemberPage calls fn with each page of g's members, in profile id order.
func eachMemberPage(ctx context.Context, db scimbridge.Store, g scimbridge.Group, fn func([]scimbridge.GroupMember) error) error {
	after := ""
	for {
		ms, err := db.GroupMembers(ctx, g.OrgID, g.ID, after, memberPage)
		if err != nil {
			return fmt.Errorf("read members of group %s: %w", g.ID, err)
		}
		if len(ms) > 0 {
			if err := fn(ms); err != nil {
				return err
			}
			after = ms[len(ms)-1].ProfileID
		}
		if len(ms) < memberPage {
			return nil
		}
	}
}

// groupResource is g as the SCIM API represents it, plus the top-level
// members "source" and "googleId" (null when the group has none), in
// compact JSON.
func groupResource(g scimbridge.Group, members []scimbridge.GroupMember, baseURL string) ([]byte, error) {
	b, err := scim.EncodeGroup(g, members, scim.EncodeOptions{BaseURL: baseURL})
	if err != nil {
		return nil, fmt.Errorf("encode group %s: %w", g.ID, err)
	}
	return withSource(b, g.Source, g.GoogleID)
}

func runGroupsShow(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("groups show --org SLUG ID|DISPLAYNAME", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, pos, err := c.orgSession(ctx, f, slug, args, "ID or DISPLAYNAME")
	if err != nil {
		return err
	}
	defer s.close()
	g, err := findGroup(ctx, s.db, org, pos[0])
	if err != nil {
		return err
	}
	members, err := allGroupMembers(ctx, s.db, g)
	if err != nil {
		return err
	}
	if f.json {
		b, err := groupResource(g, members, s.scimBaseURL())
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		json.Indent(&buf, b, "", "  ")
		buf.WriteByte('\n')
		_, err = c.stdout.Write(buf.Bytes())
		return err
	}
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.UserName
	}
	if err := keyValues(c.stdout,
		"id", g.ID,
		"display name", g.DisplayName,
		"source", string(g.Source),
		"external id", g.ExternalID,
		"google id", g.GoogleID,
		"version", fmt.Sprint(g.Version),
		"created", fmtTime(g.CreatedAt),
		"updated", fmtTime(g.UpdatedAt),
		"members", fmt.Sprint(len(members))); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := fmt.Fprintf(c.stdout, "  %s\n", n); err != nil {
			return fmt.Errorf("write group: %w", err)
		}
	}
	return nil
}

// findGroup finds a group by id or, failing that, by displayName
// (case-insensitive). Google group names may repeat: more than one match
// is an error that lists their ids.
func findGroup(ctx context.Context, db scimbridge.Store, org scimbridge.Organization, key string) (scimbridge.Group, error) {
	if _, err := uuid.Parse(key); err == nil {
		g, err := db.Group(ctx, org.ID, key)
		if err == nil {
			return g, nil
		} else if scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			return g, fmt.Errorf("read group: %w", err)
		}
	}
	page, err := db.ListGroups(ctx, scimbridge.GroupQuery{OrgID: org.ID, DisplayName: key, Limit: 10})
	if err != nil {
		return scimbridge.Group{}, fmt.Errorf("find group: %w", err)
	}
	switch len(page.Groups) {
	case 0:
		return scimbridge.Group{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "no group %q in organization %q", key, org.Slug)
	case 1:
		return page.Groups[0], nil
	}
	ids := make([]string, len(page.Groups))
	for i, g := range page.Groups {
		ids[i] = g.ID
	}
	return scimbridge.Group{}, scimbridge.Errorf(scimbridge.ECONFLICT, "%d groups are named %q in organization %q; give the id: %s",
		page.Total, key, org.Slug, strings.Join(ids, ", "))
}
