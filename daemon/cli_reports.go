package daemon

// The reports commands and the printing of bridge run reports.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// printRun prints the report of a run, if it started, and returns the
// run's error. A run with many items returns only the first ones: they are
// then read from the store one at a time as they are printed.
func (c *cli) printRun(ctx context.Context, s *session, f *flags, rep scimbridge.Report, runErr error) error {
	if rep.ID == "" {
		return runErr
	}
	var err error
	if len(rep.Items) >= bridge.ReportInline {
		err = c.printStreamedReport(f, rep, func(fn func(scimbridge.ReportItem) error) error {
			return s.db.EachReportItem(ctx, rep.OrgID, rep.ID, fn)
		})
	} else {
		err = c.printReport(f, rep)
	}
	if err != nil {
		return err
	}
	return runErr
}

// printStreamedReport prints a report as printReport does, with the items
// each yields instead of r.Items, holding one item at a time: JSON is
// written item by item; the table reads the items twice, to size its
// columns and to print them.
func (c *cli) printStreamedReport(f *flags, r scimbridge.Report, each func(func(scimbridge.ReportItem) error) error) error {
	r.Items = nil
	if !f.json {
		if err := c.printReport(f, r); err != nil {
			return err
		}
		widths := []int{len("KIND"), len("USERNAME"), len("REASON")}
		if err := each(func(it scimbridge.ReportItem) error {
			for i, cell := range itemCells(it)[:3] {
				widths[i] = max(widths[i], utf8.RuneCountInString(cell))
			}
			return nil
		}); err != nil {
			return err
		}
		w := bufio.NewWriter(c.stdout)
		fmt.Fprintln(w)
		row := func(cells []string) {
			for i, cell := range cells[:3] {
				w.WriteString(cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
			}
			w.WriteString(cells[3] + "\n")
		}
		row([]string{"KIND", "USERNAME", "REASON", "CHANGES"})
		if err := each(func(it scimbridge.ReportItem) error { row(itemCells(it)); return nil }); err != nil {
			return err
		}
		return w.Flush()
	}
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	w := bufio.NewWriter(c.stdout)
	w.Write(bytes.TrimSuffix(head.Bytes(), []byte("\n}\n")))
	var item bytes.Buffer
	ienc := json.NewEncoder(&item)
	ienc.SetIndent("    ", "  ")
	ienc.SetEscapeHTML(false)
	n := 0
	err := each(func(it scimbridge.ReportItem) error {
		item.Reset()
		if err := ienc.Encode(it); err != nil {
			return err
		}
		if n == 0 {
			w.WriteString(",\n  \"items\": [\n    ")
		} else {
			w.WriteString(",\n    ")
		}
		n++
		_, err := w.Write(bytes.TrimSuffix(item.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	if n > 0 {
		w.WriteString("\n  ]")
	}
	w.WriteString("\n}\n")
	return w.Flush()
}

// itemCells are the table cells of a report item.
func itemCells(it scimbridge.ReportItem) []string {
	kind := string(it.Kind)
	if it.Held {
		kind += " (held)"
	}
	reason := it.Reason
	if it.Error != "" {
		reason += ": " + it.Error
	}
	cells := []string{kind, it.UserName, reason, fieldsText(it.Fields)}
	for i, cell := range cells {
		if cell == "" {
			cells[i] = "-"
		}
	}
	return cells
}

// bridgeStatus is the output of bridge status.
type bridgeStatus struct {
	Org         string             `json:"org"`
	Bridge      scimbridge.Bridge  `json:"bridge"`
	Schedule    string             `json:"schedule"`
	Credentials string             `json:"credentials"` // "ok" or "cannot decrypt credentials"
	HeldPlan    *bridge.HeldPlan   `json:"held_plan,omitempty"`
	Running     *scimbridge.Lease  `json:"running,omitempty"`
	LastReport  *scimbridge.Report `json:"last_report,omitempty"`
}

// printReport writes a report, with its items, for people or as JSON.
func (c *cli) printReport(f *flags, r scimbridge.Report) error {
	if f.json {
		return writeJSON(c.stdout, r)
	}
	n := r.Counts
	kv := []string{"report", r.ID, "trigger", string(r.Trigger), "status", string(r.Status),
		"started", fmtTime(r.StartedAt), "finished", fmtTimePtr(r.FinishedAt),
		"counts", fmt.Sprintf("created %d, updated %d, deactivated %d, reactivated %d, unchanged %d, skipped %d, failed %d, held %d",
			n.Created, n.Updated, n.Deactivated, n.Reactivated, n.Unchanged, n.Skipped, n.Failed, n.Held)}
	if r.HeldUntil != nil {
		kv = append(kv, "held until", fmtTimePtr(r.HeldUntil)+" (approve with 'scimbridge reports approve --org ORG "+r.ID+"')")
	}
	if r.Error != "" {
		kv = append(kv, "note", r.Error)
	}
	if err := keyValues(c.stdout, kv...); err != nil {
		return err
	}
	if len(r.Items) == 0 {
		return nil
	}
	fmt.Fprintln(c.stdout)
	t := newTable(c.stdout, "KIND", "USERNAME", "REASON", "CHANGES")
	for _, it := range r.Items {
		t.row(itemCells(it)...)
	}
	return t.flush()
}

func fieldsText(fs []scimbridge.FieldChange) string {
	parts := make([]string, 0, len(fs))
	for _, fc := range fs {
		parts = append(parts, fmt.Sprintf("%s: %q -> %q", fc.Field, fc.Before, fc.After))
	}
	return strings.Join(parts, "; ")
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

func runReportsShow(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("reports show --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, pos, err := c.orgSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	r, err := s.db.Report(ctx, org.ID, pos[0])
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no report %q in organization %q", pos[0], org.Slug)
	} else if err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	return c.printReport(f, r)
}

func runReportsApprove(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("reports approve --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
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
	rep, runErr := s.admin.ApproveReport(ctx, s.by, *slug, pos[0])
	return c.printRun(ctx, s, f, rep, runErr)
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
