package adminapi

// The changes feed as a route of the API: the same authentication and
// roles as every route (every token of the organization and operators
// read it), served by package feed.

import (
	"net/http"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/feed"
)

// SetFeed serves the changes feed with f; call it before serving. Until
// it is set, the route answers 404.
func (s *Server) SetFeed(f *feed.Feed) { s.feed = f }

func (s *Server) changesRoutes() []route {
	return []route{{"GET", "/orgs/{slug}/changes", admin.ReadDirectory, s.changes}}
}

func (s *Server) changes(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.feed == nil {
		writeError(w, http.StatusNotFound, "not_found", "this database keeps no change records: the changes feed is not served")
		return nil
	}
	s.feed.ServeChanges(w, r, c.org)
	return nil
}

// snapshotCursor is the feed position to follow after a first page of
// the directory: taken before the page is read, so no change committed
// after the page's read is before it. "" without a feed or on a later
// page.
func (s *Server) snapshotCursor(r *http.Request, c *call) (string, error) {
	if s.feed == nil || r.URL.Query().Get("after") != "" {
		return "", nil
	}
	return s.feed.Head(r.Context(), c.org.ID)
}
