package daemon

// The printing of bridge run reports: a summary by default, every item
// with --items, JSON with --json. Large reports are read from the store one
// item at a time.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// summaryItems is how many items of each kind a summary shows.
const summaryItems = 3

// reportView says how a report is printed.
type reportView struct {
	slug  string // the organization, for the commands it suggests
	json  bool
	items bool   // every item instead of the summary
	kind  string // only the items of this kind ("held" for held items)
	limit int    // at most this many items; 0 for all
}

// listing says whether items are listed instead of summarised.
func (v reportView) listing() bool { return v.items || v.kind != "" || v.limit > 0 }

// itemSource calls fn with each item of a report, stopping at fn's first
// error.
type itemSource func(fn func(scimbridge.ReportItem) error) error

// errEnough stops an itemSource once --limit items were read.
var errEnough = errors.New("enough items")

// filter returns the items of each that --kind and --limit select.
func (v reportView) filter(each itemSource) itemSource {
	if v.kind == "" && v.limit == 0 {
		return each
	}
	return func(fn func(scimbridge.ReportItem) error) error {
		n := 0
		err := each(func(it scimbridge.ReportItem) error {
			if v.kind != "" && string(it.Kind) != v.kind && (v.kind != "held" || !it.Held) {
				return nil
			}
			if v.limit > 0 && n >= v.limit {
				return errEnough
			}
			n++
			return fn(it)
		})
		if errors.Is(err, errEnough) {
			return nil
		}
		return err
	}
}

// inlineItems is the source of the items a report carries.
func inlineItems(items []scimbridge.ReportItem) itemSource {
	return func(fn func(scimbridge.ReportItem) error) error {
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	}
}

// reportItems is the source of a report's items: those it carries, or the
// stored ones when a run returned only the first of many.
func (s *session) reportItems(ctx context.Context, r scimbridge.Report) itemSource {
	if len(r.Items) >= bridge.ReportInline {
		return func(fn func(scimbridge.ReportItem) error) error {
			return s.db.EachReportItem(ctx, r.OrgID, r.ID, fn)
		}
	}
	return inlineItems(r.Items)
}

// heldError is returned by a run that held changes for approval: exit
// code 3, with the command that shows them.
type heldError struct {
	slug, reportID string
	changes        int
}

func (e *heldError) Error() string { return heldText(e.slug, e.reportID, e.changes) }

// heldText is the status of a held plan that waits for approval.
func heldText(slug, reportID string, changes int) string {
	return fmt.Sprintf("held: %s wait for approval (scimbridge reports show --org %s %s)",
		plural(changes, "change", "changes"), slug, reportID)
}

// printRun prints the report of a run, if it started, and returns the
// run's error, or a *heldError when it held changes.
func (c *cli) printRun(ctx context.Context, s *session, v reportView, rep scimbridge.Report, runErr error) error {
	if rep.ID == "" {
		return runErr
	}
	if err := c.printReport(v, rep, s.reportItems(ctx, rep)); err != nil {
		return err
	}
	if runErr == nil && rep.Status == scimbridge.ReportHeld {
		return &heldError{slug: v.slug, reportID: rep.ID, changes: rep.Counts.Held}
	}
	return runErr
}

// printReport writes a report: JSON with every item (those v selects), or
// its fields followed by a summary of its items or the items v selects.
// Items are held one at a time, except the few a summary shows.
func (c *cli) printReport(v reportView, r scimbridge.Report, each itemSource) error {
	each = v.filter(each)
	if v.json {
		return c.printReportJSON(r, each)
	}
	if err := c.printReportFields(v, r); err != nil {
		return err
	}
	if v.listing() {
		return c.printItems(each, false)
	}
	return c.printSummary(v, r, each)
}

// printReportFields writes the report's own fields.
func (c *cli) printReportFields(v reportView, r scimbridge.Report) error {
	n := r.Counts
	kv := []string{"report", r.ID, "trigger", string(r.Trigger), "status", string(r.Status),
		"started", fmtTime(r.StartedAt), "finished", fmtTimePtr(r.FinishedAt),
		"counts", fmt.Sprintf("created %d, updated %d, deactivated %d, reactivated %d, unchanged %d, skipped %d, failed %d, held %d",
			n.Created, n.Updated, n.Deactivated, n.Reactivated, n.Unchanged, n.Skipped, n.Failed, n.Held)}
	if g := n.Groups; g != nil {
		kv = append(kv, "groups", groupCountsText(*g))
	}
	switch {
	case n.Held > 0:
		kv = append(kv, "guard", fmt.Sprintf("guarded: %s held for approval", plural(n.Held, "change", "changes")))
	case r.Status == scimbridge.ReportApplied || r.Status == scimbridge.ReportDryRun:
		kv = append(kv, "guard", "passed: nothing held")
	}
	if r.HeldUntil != nil {
		kv = append(kv, "held until", fmtTimePtr(r.HeldUntil)+
			fmt.Sprintf(" (approve with 'scimbridge reports approve --org %s %s')", v.slug, r.ID))
	}
	if r.Error != "" {
		kv = append(kv, "note", r.Error)
	}
	return keyValues(c.stdout, kv...)
}

// kindSummary is the items of one kind (with "(held)" for held items).
type kindSummary struct {
	kind    string
	count   int
	reasons map[string]int
	first   []scimbridge.ReportItem
}

// printSummary writes the items' counts by kind and reason and the first
// items of each kind.
func (c *cli) printSummary(v reportView, r scimbridge.Report, each itemSource) error {
	var kinds []*kindSummary
	total := 0
	err := each(func(it scimbridge.ReportItem) error {
		total++
		k := itemCells(it)[0]
		i := slices.IndexFunc(kinds, func(s *kindSummary) bool { return s.kind == k })
		if i < 0 {
			kinds = append(kinds, &kindSummary{kind: k, reasons: map[string]int{}})
			i = len(kinds) - 1
		}
		s := kinds[i]
		s.count++
		reason := it.Reason
		if reason == "" {
			reason = "-"
		}
		s.reasons[reason]++
		if len(s.first) < summaryItems {
			s.first = append(s.first, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if total == 0 {
		return nil
	}
	fmt.Fprintln(c.stdout)
	t := newTable(c.stdout, "ITEMS", "KIND", "REASONS")
	for _, s := range kinds {
		t.row(fmt.Sprint(s.count), s.kind, reasonsText(s.reasons))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "\nFirst items of each kind (all %s: 'scimbridge reports show --org %s %s --items', or --kind K):\n",
		plural(total, "item", "items"), v.slug, r.ID)
	var first []scimbridge.ReportItem
	for _, s := range kinds {
		first = append(first, s.first...)
	}
	return c.printItems(inlineItems(first), true)
}

// reasonsText is "suspended 4, missing from listing 6", most frequent
// first.
func reasonsText(reasons map[string]int) string {
	names := make([]string, 0, len(reasons))
	for r := range reasons {
		names = append(names, r)
	}
	slices.SortFunc(names, func(a, b string) int {
		if reasons[a] != reasons[b] {
			return reasons[b] - reasons[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, r := range names {
		parts[i] = fmt.Sprintf("%s %d", r, reasons[r])
	}
	return strings.Join(parts, ", ")
}

// printItems writes the items as a table, reading them twice: to size
// its columns and to print them. Brief tables name the changed fields
// without their values.
func (c *cli) printItems(each itemSource, brief bool) error {
	widths := []int{len("KIND"), len("USERNAME"), len("REASON")}
	n := 0
	if err := each(func(it scimbridge.ReportItem) error {
		n++
		for i, cell := range itemCells(it)[:3] {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
		return nil
	}); err != nil {
		return err
	}
	if n == 0 {
		_, err := fmt.Fprintln(c.stdout, "\nNo items.")
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
	if err := each(func(it scimbridge.ReportItem) error {
		cells := itemCells(it)
		if brief && len(it.Fields) > 0 {
			names := make([]string, len(it.Fields))
			for i, fc := range it.Fields {
				names[i] = fc.Field
			}
			cells[3] = strings.Join(names, ", ")
		}
		row(cells)
		return nil
	}); err != nil {
		return err
	}
	return w.Flush()
}

// printReportJSON writes the report as JSON with the items each yields,
// item by item.
func (c *cli) printReportJSON(r scimbridge.Report, each itemSource) error {
	r.Items = nil
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

func fieldsText(fs []scimbridge.FieldChange) string {
	parts := make([]string, 0, len(fs))
	for _, fc := range fs {
		parts = append(parts, fmt.Sprintf("%s: %q -> %q", fc.Field, fc.Before, fc.After))
	}
	return strings.Join(parts, "; ")
}
