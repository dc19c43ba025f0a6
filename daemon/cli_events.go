package daemon

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
)

func eventCommands() []command {
	return []command{
		{name: "events list", args: "--org SLUG [--status 2xx|4xx|5xx] [--method M] [--username U] [--source idp|google|admin] [--since T] [--until T] [--cursor N] [--limit N] [--csv]",
			summary: "list the events log, newest first, or export it as CSV", run: runEventsList},
		{name: "events show", args: "--org SLUG ID", summary: "show one event with its (redacted) request and response bodies", run: runEventsShow},
	}
}

// eventJSON is an event as the commands print it in JSON: its duration in
// milliseconds, as in the CSV export, instead of nanoseconds.
type eventJSON struct {
	scimbridge.Event
	// Duration hides the embedded event's duration in nanoseconds.
	Duration   *struct{} `json:"duration,omitempty"`
	DurationMS float64   `json:"duration_ms"`
}

func toEventJSON(e scimbridge.Event) eventJSON {
	return eventJSON{Event: e, DurationMS: durationMS(e.Duration)}
}

// durationMS is d in milliseconds, to the microsecond.
func durationMS(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

func runEventsShow(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("events show --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, pos, err := c.orgSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return usagef(f.cmd, "invalid event id %q: use the ID column of 'scimbridge events list'", pos[0])
	}
	// Events are listed newest first, before the cursor: the first one
	// before id+1 is the event, if the organization has it.
	page, err := s.db.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Cursor: id + 1, Limit: 1})
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	if len(page.Events) == 0 || page.Events[0].ID != id {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no event %d in organization %q", id, org.Slug)
	}
	e := page.Events[0]
	if f.json {
		return writeJSON(c.stdout, toEventJSON(e))
	}
	status := strconv.Itoa(e.Status)
	if e.Count > 1 {
		status += fmt.Sprintf(" (x%d)", e.Count)
	}
	if err := keyValues(c.stdout, "event", strconv.FormatInt(e.ID, 10), "time", fmtTime(e.Time), "source", string(e.Source),
		"actor", e.Actor, "method", e.Method, "path", e.Path, "status", status, "username", e.TargetUserName,
		"client ip", e.ClientIP, "user agent", e.UserAgent, "request id", e.RequestID,
		"duration", fmt.Sprintf("%.3f ms", durationMS(e.Duration)), "run", e.RunID, "kind", string(e.Kind),
		"profile", e.ProfileID, "error", e.Error); err != nil {
		return err
	}
	body := func(name, b string, truncated bool) {
		fmt.Fprintf(c.stdout, "\n%s", name)
		if truncated {
			fmt.Fprint(c.stdout, " (truncated)")
		}
		if b == "" {
			fmt.Fprintln(c.stdout, ": none")
			return
		}
		fmt.Fprintf(c.stdout, ":\n%s\n", strings.TrimRight(b, "\n"))
	}
	body("request body", e.RequestBody, e.RequestTruncated)
	body("response body", e.ResponseBody, e.ResponseTruncated)
	return nil
}

const eventsUsage = "events list --org SLUG [--status 2xx|4xx|5xx] [--method M] [--username U] [--source idp|google|admin] [--since T] [--until T] [--cursor N] [--limit N] [--csv]"

func runEventsList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags(eventsUsage, true)
	slug := f.String("org", "", "organization `SLUG`")
	status := f.String("status", "", "status class: `2xx`, 4xx or 5xx")
	method := f.String("method", "", "HTTP `METHOD`, like PATCH")
	username := f.String("username", "", "target `USERNAME` (case-insensitive)")
	source := f.String("source", "", "`SOURCE`: idp, google or admin")
	since := f.String("since", "", "from `TIME` on: RFC 3339, a date (2006-01-02) or an age like 24h or 7d")
	until := f.String("until", "", "before `TIME`, written as for --since")
	cursor := f.Int64("cursor", 0, "continue after event `ID` (the next_cursor of the previous page)")
	limit := f.Int("limit", 100, "at most `N` events (1 to 1000)")
	asCSV := f.Bool("csv", false, "export every matching event as CSV, bodies included (ignores --limit)")
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	q := scimbridge.EventQuery{
		Method:   strings.ToUpper(*method),
		UserName: *username,
		Cursor:   *cursor,
		Limit:    *limit,
	}
	switch strings.ToLower(*status) {
	case "":
	case "2xx", "4xx", "5xx":
		q.StatusClass = int((*status)[0] - '0')
	default:
		return usagef(f.cmd, "invalid --status %q: use 2xx, 4xx or 5xx", *status)
	}
	switch src := scimbridge.EventSource(*source); src {
	case "", scimbridge.EventIdP, scimbridge.EventGoogle, scimbridge.EventAdmin:
		q.Source = src
	default:
		return usagef(f.cmd, "invalid --source %q: use idp, google or admin", *source)
	}
	if *limit < 1 || *limit > 1000 {
		return usagef(f.cmd, "invalid --limit %d: use 1 to 1000", *limit)
	}
	if *cursor < 0 {
		return usagef(f.cmd, "invalid --cursor %d", *cursor)
	}
	now := c.clock()
	var err error
	if q.Since, err = parseTimeFlag(*since, now); err != nil {
		return usagef(f.cmd, "invalid --since: %v", err)
	}
	if q.Until, err = parseTimeFlag(*until, now); err != nil {
		return usagef(f.cmd, "invalid --until: %v", err)
	}

	s, org, err := c.openOrg(ctx, f, *slug)
	if err != nil {
		return err
	}
	defer s.close()
	q.OrgID = org.ID
	if *asCSV {
		return writeEventsCSV(ctx, c.stdout, s.db, q)
	}
	page, err := s.db.ListEvents(ctx, q)
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	if f.json {
		out := struct {
			Events     []eventJSON `json:"events"`
			NextCursor int64       `json:"next_cursor,omitempty"`
		}{Events: make([]eventJSON, len(page.Events)), NextCursor: page.NextCursor}
		for i, e := range page.Events {
			out.Events[i] = toEventJSON(e)
		}
		return writeJSON(c.stdout, out)
	}
	t := newTable(c.stdout, "ID", "TIME", "SOURCE", "METHOD", "PATH", "STATUS", "USERNAME", "CLIENT IP", "ERROR")
	for _, e := range page.Events {
		st := strconv.Itoa(e.Status)
		if e.Count > 1 {
			st += fmt.Sprintf(" (x%d)", e.Count)
		}
		source := string(e.Source)
		if e.Actor != "" {
			source += " (" + e.Actor + ")"
		}
		t.row(strconv.FormatInt(e.ID, 10), fmtTime(e.Time), source, e.Method, e.Path, st,
			e.TargetUserName, e.ClientIP, e.Error)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if page.NextCursor != 0 {
		fmt.Fprintf(c.stdout, "\nMore events: add --cursor %d\n", page.NextCursor)
	}
	return nil
}

// writeEventsCSV writes every event q matches, newest first, paging through
// the log with its cursor so an export never holds it all.
func writeEventsCSV(ctx context.Context, w io.Writer, db scimbridge.EventStore, q scimbridge.EventQuery) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(admin.EventsCSVHeader); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	q.Limit = 1000
	for {
		page, err := db.ListEvents(ctx, q)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		for _, e := range page.Events {
			if err := cw.Write(admin.EventCSVRow(e)); err != nil {
				return fmt.Errorf("write CSV: %w", err)
			}
		}
		if page.NextCursor == 0 {
			break
		}
		q.Cursor = page.NextCursor
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// parseTimeFlag reads a time as RFC 3339, a date (midnight UTC) or an age
// ("24h", "7d") before now. "" is the zero time.
func parseTimeFlag(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := configs.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d.Duration()), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date like 2006-01-02 or an age like 24h or 7d", s)
}
