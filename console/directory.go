package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

const directoryPerPage = 50

// directoryData is the directory page: users or groups, searched.
type directoryData struct {
	Groups   bool
	Query    string
	Source   string
	Users    []scimbridge.Profile
	GroupRow []scimbridge.Group
	// First is the query of the first page when this is a later one; Next
	// the query of the next page.
	First string
	Next  string
}

func (s *Server) directory(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Directory", "directory")
	f := r.URL.Query()
	d := &directoryData{Groups: f.Get("tab") == "groups", Query: strings.TrimSpace(f.Get("q")), Source: f.Get("source")}
	v.Data = d
	dq := admin.DirectoryQuery{Search: d.Query, Source: scimbridge.Source(d.Source), After: f.Get("after"), Limit: directoryPerPage}
	var next string
	var err error
	if d.Groups {
		var page admin.GroupPage
		page, err = s.cfg.Admin.Groups(r.Context(), q.sess.Org.Slug, dq)
		d.GroupRow, next = page.Groups, page.Next
	} else {
		var page admin.UserPage
		page, err = s.cfg.Admin.Users(r.Context(), q.sess.Org.Slug, dq)
		d.Users, next = page.Users, page.Next
	}
	if errStatus(err) == http.StatusBadRequest {
		v.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "directory", v)
		return
	} else if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	link := func(after string) string {
		u := url.Values{}
		for k, vs := range f {
			u[k] = vs
		}
		u.Del("after")
		if after != "" {
			u.Set("after", after)
		}
		return u.Encode()
	}
	if dq.After != "" {
		d.First = link("")
	}
	if next != "" {
		d.Next = link(next)
	}
	s.render(w, r, http.StatusOK, "directory", v)
}
