package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

const directoryPerPage = 50

// directoryData is the directory page: users or groups, searched.
type directoryData struct {
	Groups   bool
	Query    string
	Source   string
	Users    []scimbridge.Profile
	GroupRow []scimbridge.Group
	Total    int
	Offset   int
	Prev     string
	Next     string
}

func (s *Server) directory(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Directory", "directory")
	f := r.URL.Query()
	d := &directoryData{Groups: f.Get("tab") == "groups", Query: strings.TrimSpace(f.Get("q")), Source: f.Get("source")}
	v.Data = d
	if o, err := strconv.Atoi(f.Get("offset")); err == nil && o > 0 {
		d.Offset = o
	}
	var sources []scimbridge.Source
	switch src := scimbridge.Source(d.Source); src {
	case "":
	case scimbridge.SourceManual, scimbridge.SourceSCIM, scimbridge.SourceGoogle, scimbridge.SourceSAML:
		sources = []scimbridge.Source{src}
	default:
		v.Error = "Unknown source: choose one from the list."
		s.render(w, r, http.StatusBadRequest, "directory", v)
		return
	}
	if d.Groups {
		page, err := s.cfg.Store.ListGroups(r.Context(), scimbridge.GroupQuery{OrgID: q.sess.Org.ID, Sources: sources,
			DisplayName: d.Query, Offset: d.Offset, Limit: directoryPerPage})
		if err != nil {
			s.serverError(w, r, q, err)
			return
		}
		d.GroupRow, d.Total = page.Groups, page.Total
	} else {
		pq := scimbridge.ProfileQuery{OrgID: q.sess.Org.ID, Sources: sources, SortBy: "userName",
			Offset: d.Offset, Limit: directoryPerPage}
		if d.Query != "" {
			lit := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(d.Query)
			filter, err := scim.ParseFilter(`userName co "` + lit + `" or displayName co "` + lit + `" or emails.value co "` + lit + `"`)
			if err != nil {
				v.Error = "The search could not be read: " + err.Error()
				s.render(w, r, http.StatusBadRequest, "directory", v)
				return
			}
			pq.Filter = filter
		}
		page, err := s.cfg.Store.ListProfiles(r.Context(), pq)
		if code := scimbridge.ErrorCode(err); code == scimbridge.EINVALID {
			v.Error = err.Error()
			s.render(w, r, http.StatusBadRequest, "directory", v)
			return
		} else if err != nil {
			s.serverError(w, r, q, err)
			return
		}
		d.Users, d.Total = page.Profiles, page.Total
	}
	link := func(offset int) string {
		u := url.Values{}
		for k, vs := range f {
			u[k] = vs
		}
		u.Set("offset", strconv.Itoa(offset))
		return u.Encode()
	}
	if d.Offset > 0 {
		d.Prev = link(max(0, d.Offset-directoryPerPage))
	}
	if d.Offset+directoryPerPage < d.Total {
		d.Next = link(d.Offset + directoryPerPage)
	}
	s.render(w, r, http.StatusOK, "directory", v)
}
