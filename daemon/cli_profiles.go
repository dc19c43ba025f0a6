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
	"github.com/scimbridge/scimbridge/scimserver"
)

// profilePage is how many profiles a listing reads at a time.
const profilePage = 500

func profileCommands() []command {
	return []command{
		{name: "profiles list", args: "--org SLUG [--source S] [--include-detached]",
			summary: "list profiles; --json prints SCIM User resources", run: runProfilesList},
		{name: "profiles show", args: "--org SLUG ID|USERNAME", summary: "show one profile", run: runProfilesShow},
		{name: "profiles release", args: "--org SLUG --source scim|google",
			summary: "make a source's profiles manual, so another source can adopt them", run: runProfilesRelease},
	}
}

// parseSource checks a --source value.
func parseSource(f *flags, s string, allowed ...scimbridge.Source) (scimbridge.Source, error) {
	for _, a := range allowed {
		if scimbridge.Source(s) == a {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", usagef(f.cmd, "invalid --source %q: use %s", s, strings.Join(names, ", "))
}

func runProfilesList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("profiles list --org SLUG [--source S] [--include-detached]", true)
	slug := f.String("org", "", "organization `SLUG`")
	source := f.String("source", "", "only profiles managed by `SOURCE`: manual, saml, scim or google")
	detached := f.Bool("include-detached", false, "include profiles detached by a SCIM DELETE")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	q := scimbridge.ProfileQuery{IncludeDetached: *detached, SortBy: "userName", Limit: profilePage}
	if *source != "" {
		src, err := parseSource(f, *source, scimbridge.SourceManual, scimbridge.SourceSAML, scimbridge.SourceSCIM, scimbridge.SourceGoogle)
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

	var out profileWriter
	if f.json {
		out = &profileJSON{ctx: ctx, w: c.stdout, baseURL: s.scimBaseURL(), managers: scimserver.NewManagerResolver(s.db, org.ID, nil)}
	} else {
		out = &profileTable{t: newTable(c.stdout, "ID", "USERNAME", "EMAIL", "STATE", "SOURCE", "UPDATED")}
	}
	for {
		page, err := s.db.ListProfiles(ctx, q)
		if err != nil {
			return fmt.Errorf("list profiles: %w", err)
		}
		for _, p := range page.Profiles {
			if err := out.write(p); err != nil {
				return err
			}
		}
		q.Offset += len(page.Profiles)
		if len(page.Profiles) < q.Limit || q.Offset >= page.Total {
			break
		}
	}
	return out.close()
}

// profileWriter prints a listing one profile at a time, so a large
// organization is never held in memory.
type profileWriter interface {
	write(p scimbridge.Profile) error
	close() error
}

type profileTable struct{ t *table }

func (pt *profileTable) write(p scimbridge.Profile) error {
	state := string(p.State)
	if p.Detached() {
		state += " (detached)"
	}
	pt.t.row(p.ID, p.UserName, p.Email, state, string(p.Source), fmtTime(p.UpdatedAt))
	return nil
}

func (pt *profileTable) close() error { return pt.t.flush() }

// profileJSON prints a JSON array of SCIM User resources, each with the
// extra members "source" and "googleId".
type profileJSON struct {
	ctx      context.Context
	w        io.Writer
	baseURL  string
	managers *scimserver.ManagerResolver
	n        int
}

func (pj *profileJSON) write(p scimbridge.Profile) error {
	b, err := profileResource(pj.ctx, p, pj.baseURL, pj.managers)
	if err != nil {
		return err
	}
	sep := ",\n  "
	if pj.n == 0 {
		sep = "[\n  "
	}
	pj.n++
	if _, err := io.WriteString(pj.w, sep); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	if _, err := pj.w.Write(b); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}

func (pj *profileJSON) close() error {
	end := "\n]\n"
	if pj.n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(pj.w, end); err != nil {
		return fmt.Errorf("write profiles: %w", err)
	}
	return nil
}

// profileResource is p as the SCIM API represents it, plus the top-level
// members "source" and "googleId" (null when the profile has none), in
// compact JSON.
func profileResource(ctx context.Context, p scimbridge.Profile, baseURL string, m *scimserver.ManagerResolver) ([]byte, error) {
	b, err := encodeUser(ctx, p, baseURL, m)
	if err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", p.ID, err)
	}
	return withSource(b, p.Source, p.GoogleID)
}

// withSource returns the SCIM resource b in compact JSON with the
// top-level members "source" and "googleId" (null when empty) added: the
// command line's JSON for profiles and groups.
func withSource(b []byte, source scimbridge.Source, googleID string) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("compact resource: %w", err)
	}
	b = bytes.TrimSuffix(buf.Bytes(), []byte("}"))
	extra, _ := json.Marshal(struct {
		Source   scimbridge.Source `json:"source"`
		GoogleID *string           `json:"googleId"`
	}{source, nilIfEmpty(googleID)})
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(b, extra[1:]...), nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func runProfilesShow(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("profiles show --org SLUG ID|USERNAME", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, pos, err := c.orgSession(ctx, f, slug, args, "ID or USERNAME")
	if err != nil {
		return err
	}
	defer s.close()
	p, err := findProfile(ctx, s.db, org, pos[0])
	if err != nil {
		return err
	}
	if f.json {
		b, err := profileResource(ctx, p, s.scimBaseURL(), scimserver.NewManagerResolver(s.db, org.ID, nil))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		json.Indent(&buf, b, "", "  ")
		buf.WriteByte('\n')
		_, err = c.stdout.Write(buf.Bytes())
		return err
	}
	emails := make([]string, len(p.Emails))
	for i, e := range p.Emails {
		emails[i] = e.Value
		if e.Type != "" {
			emails[i] += " (" + e.Type + ")"
		}
	}
	return keyValues(c.stdout,
		"id", p.ID,
		"username", p.UserName,
		"email", p.Email,
		"emails", strings.Join(emails, ", "),
		"display name", p.DisplayName,
		"state", string(p.State),
		"source", string(p.Source),
		"role", string(p.Role),
		"access revoked", fmt.Sprint(p.AccessRevoked),
		"external id", p.ExternalID,
		"google id", p.GoogleID,
		"version", fmt.Sprint(p.Version),
		"created", fmtTime(p.CreatedAt),
		"updated", fmtTime(p.UpdatedAt),
		"deactivated", fmtTimePtr(p.DeactivatedAt),
		"detached", fmtTimePtr(p.DetachedAt),
		"former username", p.FormerUserName,
		"former email", p.FormerEmail)
}

// findProfile finds a profile by id or, failing that, by userName
// (case-insensitive), preferring one that is not detached.
func findProfile(ctx context.Context, db scimbridge.Store, org scimbridge.Organization, key string) (scimbridge.Profile, error) {
	if _, err := uuid.Parse(key); err == nil {
		p, err := db.Profile(ctx, org.ID, key)
		if err == nil {
			return p, nil
		} else if scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			return p, fmt.Errorf("read profile: %w", err)
		}
	}
	ps, err := db.LookupProfiles(ctx, org.ID, scimbridge.ProfileLookup{UserName: key})
	if err != nil {
		return scimbridge.Profile{}, fmt.Errorf("find profile: %w", err)
	}
	var found *scimbridge.Profile
	for i := range ps {
		p := &ps[i]
		if !strings.EqualFold(p.UserName, key) && !strings.EqualFold(p.FormerUserName, key) {
			continue
		}
		if found == nil || found.Detached() && !p.Detached() ||
			found.Detached() == p.Detached() && p.UpdatedAt.After(found.UpdatedAt) {
			found = p
		}
	}
	if found == nil {
		return scimbridge.Profile{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "no profile %q in organization %q", key, org.Slug)
	}
	return *found, nil
}

func runProfilesRelease(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("profiles release --org SLUG --source scim|google", true)
	slug := f.String("org", "", "organization `SLUG`")
	source := f.String("source", "", "release the profiles of `SOURCE`: scim or google")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	if *source == "" {
		return usagef(f.cmd, "--source is required")
	}
	src, err := parseSource(f, *source, scimbridge.SourceSCIM, scimbridge.SourceGoogle)
	if err != nil {
		return err
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	n, err := s.admin.ReleaseProfiles(ctx, s.by, *slug, src)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "source": src, "released": n})
	}
	fmt.Fprintf(c.stdout, "Released %d %s profiles of %s: they are manual now.\n", n, src, *slug)
	return nil
}
