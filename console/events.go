package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
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

// eventQuery reads the events filters of a URL: status (2xx, 4xx, 5xx),
// method, username, source, since and until (RFC 3339 or 2006-01-02),
// after (the cursor of the next page). The admin operation checks the
// rest.
func eventQuery(f url.Values) (admin.EventQuery, error) {
	q := admin.EventQuery{Limit: eventsPerPage, After: f.Get("after")}
	if st := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(f.Get("status"))), "xx"); st != "" {
		switch st {
		case "2", "4", "5":
			q.StatusClass = int(st[0] - '0')
		default:
			return q, scimbridge.Errorf(scimbridge.EINVALID, "invalid status %q: use 2xx, 4xx or 5xx", f.Get("status"))
		}
	}
	q.Method = strings.TrimSpace(f.Get("method"))
	q.UserName = strings.TrimSpace(f.Get("username"))
	q.Source = scimbridge.EventSource(f.Get("source"))
	var err error
	if q.Since, err = parseTime(f.Get("since")); err != nil {
		return q, err
	}
	if q.Until, err = parseTime(f.Get("until")); err != nil {
		return q, err
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
	eq, err := eventQuery(f)
	var page admin.EventPage
	if err == nil {
		page, err = s.cfg.Admin.Events(r.Context(), q.sess.Org.Slug, eq)
	}
	if errStatus(err) == http.StatusBadRequest {
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "events", v)
		return
	} else if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	d.Events = page.Events
	if page.Next != "" {
		next := url.Values{}
		for k, vs := range f {
			next[k] = vs
		}
		next.Set("after", page.Next)
		d.Next = next.Encode()
	}
	s.render(w, r, http.StatusOK, "events", v)
}

// eventsCSV exports every event the filters match, newest first, as the
// command line and the admin API do.
func (s *Server) eventsCSV(w http.ResponseWriter, r *http.Request, q *request) {
	eq, err := eventQuery(r.URL.Query())
	if err == nil {
		// Check the filters before the first byte is sent.
		check := eq
		check.Limit = 1
		_, err = s.cfg.Admin.Events(r.Context(), q.sess.Org.Slug, check)
	}
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+q.sess.Org.Slug+`-events.csv"`)
	if err := s.cfg.Admin.WriteEventsCSV(r.Context(), w, q.sess.Org.Slug, eq); err != nil {
		s.cfg.Logger.Error("export events", "err", err) // the CSV ends early: its headers are sent
	}
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
	e, err := s.cfg.Admin.Event(r.Context(), q.sess.Org.Slug, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		s.errorPage(w, r, q, http.StatusNotFound, "There is no such event in this organization (events older than the retention are purged).")
		return
	} else if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	v := s.newView(r, q, "Event", "provisioning")
	v.Tab = "events"
	v.Data = eventDetail{Event: e, Explanation: explainEvent(e)}
	s.render(w, r, http.StatusOK, "event", v)
}
