package daemon

// The reports commands (printing: cli_report_print.go).

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// bridgeStatus is the output of bridge status.
type bridgeStatus struct {
	Org      string            `json:"org"`
	Bridge   scimbridge.Bridge `json:"bridge"`
	Schedule string            `json:"schedule"`
	// Status is "ok", "held: N changes wait for approval (...)",
	// "failing (N in a row)", "needs attention" or "cannot decrypt
	// credentials", the first that applies from the last.
	Status      string             `json:"status"`
	Credentials string             `json:"credentials"` // "ok" or "cannot decrypt credentials"
	HeldPlan    *bridge.HeldPlan   `json:"held_plan,omitempty"`
	Running     *scimbridge.Lease  `json:"running,omitempty"`
	LastReport  *scimbridge.Report `json:"last_report,omitempty"`
}

func runReportsList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("reports list --org SLUG [--limit N]", true)
	slug := f.String("org", "", "organization `SLUG`")
	limit := f.Int("limit", 50, "at most `N` reports (1 to 1000)")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	if *limit < 1 || *limit > 1000 {
		return usagef(f.cmd, "invalid --limit %d: use 1 to 1000", *limit)
	}
	reps, err := s.db.Reports(ctx, org.ID, *limit)
	if err != nil {
		return fmt.Errorf("list reports: %w", err)
	}
	if f.json {
		return writeJSON(c.stdout, reps)
	}
	t := newTable(c.stdout, "ID", "TRIGGER", "STATUS", "STARTED", "CREATED", "UPDATED", "DEACTIVATED", "REACTIVATED", "SKIPPED", "FAILED", "HELD", "NOTE")
	for _, r := range reps {
		n := r.Counts
		t.row(r.ID, string(r.Trigger), string(r.Status), fmtTime(r.StartedAt), fmt.Sprint(n.Created), fmt.Sprint(n.Updated),
			fmt.Sprint(n.Deactivated), fmt.Sprint(n.Reactivated), fmt.Sprint(n.Skipped), fmt.Sprint(n.Failed), fmt.Sprint(n.Held), r.Error)
	}
	return t.flush()
}

const reportsShowUsage = "reports show --org SLUG ID [--items | --kind KIND] [--limit N]"

func runReportsShow(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags(reportsShowUsage, true)
	slug := f.String("org", "", "organization `SLUG`")
	v := reportView{}
	f.BoolVar(&v.items, "items", false, "list every item instead of a summary")
	f.StringVar(&v.kind, "kind", "", "list only the items of `KIND`: create, update, deactivate, reactivate, skip, fail, excluded or held")
	f.IntVar(&v.limit, "limit", 0, "list at most `N` items")
	s, org, pos, err := c.orgSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	if v.limit < 0 {
		return usagef(f.cmd, "invalid --limit %d", v.limit)
	}
	v.slug, v.json = org.Slug, f.json
	// The report without its items, which are read a page at a time.
	r, err := s.db.ReportSummary(ctx, org.ID, pos[0])
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no report %q in organization %q", pos[0], org.Slug)
	} else if err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	return c.printReport(v, r, func(fn func(scimbridge.ReportItem) error) error {
		return s.db.EachReportItem(ctx, r.OrgID, r.ID, fn)
	})
}

func runReportsApprove(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("reports approve --org SLUG ID [--items]", true)
	slug := f.String("org", "", "organization `SLUG`")
	items := f.Bool("items", false, "list every item instead of a summary")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	keyring, err := openKeyring(ctx, s.cfg, c.getenv, s.db, keysNeeded)
	if err != nil {
		return err
	}
	s.admin.Runner = c.newRunner(s, keyring)
	stop := c.showProgress(s, s.admin.Runner)
	rep, runErr := s.admin.ApproveReport(ctx, s.by, *slug, pos[0])
	stop()
	return c.printRun(ctx, s, reportView{slug: *slug, json: f.json, items: *items}, rep, runErr)
}

func runReportsDiscard(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("reports discard --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	s.admin.Runner = c.newRunner(s, nil)
	if err := s.admin.DiscardReport(ctx, s.by, *slug, pos[0]); err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "report_id": pos[0], "discarded": true})
	}
	fmt.Fprintf(c.stdout, "Held plan of report %s discarded: nothing it held was applied.\n", pos[0])
	return nil
}

// state is the one-line status of the bridge: what most needs the
// operator, or "ok".
func (st bridgeStatus) state() string {
	b := st.Bridge
	switch {
	case st.Credentials != "ok":
		return st.Credentials // "cannot decrypt credentials: needs key X; keys loaded: Y"
	case b.NeedsAttention:
		return "needs attention"
	case b.ConsecutiveFailures > 0:
		return fmt.Sprintf("failing (%d in a row)", b.ConsecutiveFailures)
	case st.HeldPlan != nil && !st.HeldPlan.Expired:
		return heldText(st.Org, st.HeldPlan.ReportID, st.HeldPlan.Changes)
	}
	return "ok"
}

// scopeText is which Google users a bridge syncs.
func scopeText(s scimbridge.BridgeSettings) string {
	customer := s.Customer
	if customer == "" {
		customer = "my_customer"
	}
	parts := []string{"customer " + customer}
	if len(s.Domains) > 0 {
		parts = append(parts, "domains "+strings.Join(s.Domains, ", "))
	} else {
		parts = append(parts, "every domain")
	}
	if len(s.OrgUnits) > 0 {
		parts = append(parts, "org units "+strings.Join(s.OrgUnits, ", "))
	} else {
		parts = append(parts, "every org unit")
	}
	if s.IncludeGuests {
		parts = append(parts, "guests included")
	}
	return strings.Join(parts, "; ")
}

// excludedText lists a bridge's excluded users.
func excludedText(s scimbridge.BridgeSettings) string {
	if len(s.ExcludedUsers) == 0 {
		return "none"
	}
	return strings.Join(s.ExcludedUsers, ", ")
}

// guardText is a bridge's guard setting.
func guardText(s scimbridge.BridgeSettings) string {
	if !s.Guard {
		return "off: mass deactivations and reactivations apply without approval"
	}
	if s.Hold == scimbridge.HoldAll {
		return "on: a guarded run holds all its changes for approval"
	}
	return "on: a guarded run holds its guarded changes for approval"
}

// phasesText is a run's phases on one line.
func phasesText(p scimbridge.ReportPhases) string {
	return fmt.Sprintf("listing %.3fs (%d pages, %.1f/s), planning %.3fs, applying %.3fs (%d changes, %.1f/s)",
		p.ListingSeconds, p.Pages, p.PagesPerSecond, p.PlanningSeconds, p.ApplyingSeconds, p.Changes, p.ChangesPerSecond)
}
