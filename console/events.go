package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// eventsData is the Provisioning page's Events tab.
type eventsData struct {
	Events []scimbridge.Event
	Filter url.Values
	// Next is the query of the next page; empty on the last.
	Next     string
	Filtered bool
}

const eventsPerPage = 50

// eventQuery reads the events filters of a URL: status (2, 4, 5 or a
// class like 4xx), method, username, source, since and until (RFC 3339 or
// 2006-01-02), after (the cursor).
func eventQuery(orgID string, f url.Values) (scimbridge.EventQuery, error) {
	q := scimbridge.EventQuery{OrgID: orgID, Limit: eventsPerPage}
	if st := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(f.Get("status"))), "xx"); st != "" {
		switch st {
		case "2", "4", "5":
			q.StatusClass = int(st[0] - '0')
		default:
			return q, scimbridge.Errorf(scimbridge.EINVALID, "invalid status %q: use 2xx, 4xx or 5xx", f.Get("status"))
		}
	}
	q.Method = strings.ToUpper(strings.TrimSpace(f.Get("method")))
	q.UserName = strings.TrimSpace(f.Get("username"))
	switch src := scimbridge.EventSource(f.Get("source")); src {
	case "", scimbridge.EventIdP, scimbridge.EventGoogle, scimbridge.EventAdmin:
		q.Source = src
	default:
		return q, scimbridge.Errorf(scimbridge.EINVALID, "invalid source %q: use idp, google or admin", src)
	}
	var err error
	if q.Since, err = parseTime(f.Get("since")); err != nil {
		return q, err
	}
	if q.Until, err = parseTime(f.Get("until")); err != nil {
		return q, err
	}
	if a := f.Get("after"); a != "" {
		if q.Cursor, err = strconv.ParseInt(a, 10, 64); err != nil || q.Cursor <= 0 {
			return q, scimbridge.Errorf(scimbridge.EINVALID, "invalid page cursor %q", a)
		}
	}
	return q, nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid time %q: use 2006-01-02 or 2006-01-02T15:04:05Z", s)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Provisioning", "provisioning")
	v.Tab = "events"
	f := r.URL.Query()
	d := &eventsData{Filter: f}
	v.Data = d
	for _, k := range []string{"status", "method", "username", "source", "since", "until"} {
		if f.Get(k) != "" {
			d.Filtered = true
		}
	}
	eq, err := eventQuery(q.sess.Org.ID, f)
	if err != nil {
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "events", v)
		return
	}
	page, err := s.cfg.Store.ListEvents(r.Context(), eq)
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	d.Events = page.Events
	if page.NextCursor != 0 {
		next := url.Values{}
		for k, vs := range f {
			next[k] = vs
		}
		next.Set("after", strconv.FormatInt(page.NextCursor, 10))
		d.Next = next.Encode()
	}
	s.render(w, r, http.StatusOK, "events", v)
}

// eventsCSV exports every event the filters match, newest first.
func (s *Server) eventsCSV(w http.ResponseWriter, r *http.Request, q *request) {
	eq, err := eventQuery(q.sess.Org.ID, r.URL.Query())
	if err != nil {
		s.errorPage(w, r, q, http.StatusBadRequest, err.Error())
		return
	}
	eq.Limit = 1000
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+q.sess.Org.Slug+`-events.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "timestamp", "method", "path", "status_code", "username", "ip_address", "error_message",
		"source", "actor", "user_agent", "request_id", "run_id", "duration_ms", "count"})
	for {
		page, err := s.cfg.Store.ListEvents(r.Context(), eq)
		if err != nil {
			s.cfg.Logger.Error("export events", "err", err)
			return // the CSV ends early; headers are sent
		}
		for _, e := range page.Events {
			cw.Write([]string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Method, csvSafe(e.Path),
				strconv.Itoa(e.Status), csvSafe(e.TargetUserName), e.ClientIP, csvSafe(e.Error), string(e.Source),
				csvSafe(e.Actor), csvSafe(e.UserAgent), e.RequestID, e.RunID,
				strconv.FormatFloat(float64(e.Duration)/float64(time.Millisecond), 'f', 3, 64), strconv.Itoa(e.Count)})
		}
		cw.Flush()
		if page.NextCursor == 0 || cw.Error() != nil {
			return
		}
		eq.Cursor = page.NextCursor
	}
}

// csvSafe keeps a spreadsheet from reading a cell that came from outside
// (a username, a path) as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// eventDetail is one event with its redacted bodies.
type eventDetail struct {
	Event       scimbridge.Event
	Explanation string
}

func (s *Server) event(w http.ResponseWriter, r *http.Request, q *request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(w, r, q, http.StatusNotFound, "There is no such event.")
		return
	}
	// Events list newest first below the cursor: the first one below id+1
	// is the event, when this organization has it.
	page, err := s.cfg.Store.ListEvents(r.Context(), scimbridge.EventQuery{OrgID: q.sess.Org.ID, Cursor: id + 1, Limit: 1})
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	if len(page.Events) == 0 || page.Events[0].ID != id {
		s.errorPage(w, r, q, http.StatusNotFound, "There is no such event in this organization (events older than the retention are purged).")
		return
	}
	v := s.newView(r, q, "Event", "provisioning")
	v.Tab = "events"
	v.Data = eventDetail{Event: page.Events[0], Explanation: explainEvent(page.Events[0])}
	s.render(w, r, http.StatusOK, "event", v)
}
