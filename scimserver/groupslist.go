package scimserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// listGroups answers one page of the organization's SCIM groups: the
// filter and sortBy go through the store's Group attribute catalogue
// (displayName, externalId, id, members.value, meta.created,
// meta.lastModified, meta.resourceType).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, p listParams) {
	rec := recorderFrom(r.Context())
	q, err := groupQuery(rec.org.ID, p, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Filter != nil {
		rec.target = filterDisplayName(q.Filter)
	}
	page, err := s.store.ListGroups(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	head := listHead(page.Total, p.startIndex)
	var res bytes.Buffer
	n, err := s.encodeGroups(r, &res, page.Groups, p, len(head)+listEnvelope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeList(w, head, n, &res)
}

// groupQuery is the store query of a groups listing; anyType for a search
// over every resource type.
func groupQuery(orgID string, p listParams, anyType bool) (scimbridge.GroupQuery, error) {
	q := scimbridge.GroupQuery{
		OrgID:      orgID,
		Sources:    []scimbridge.Source{scimbridge.SourceSCIM},
		SortBy:     p.sortBy,
		Descending: p.descending,
		AnyType:    anyType,
		Offset:     p.startIndex - 1,
		Limit:      p.count,
	}
	if strings.TrimSpace(p.filter) != "" {
		f, err := scim.ParseFilter(p.filter)
		if err != nil {
			return q, err
		}
		q.Filter = f
	}
	return q, nil
}

// encodeGroups appends groups as Group resources to res as encodeUsers
// does users: comma-separated after what res holds, stopping before used
// plus res would pass maxPageBytes, at least one resource a page.
func (s *Server) encodeGroups(r *http.Request, res *bytes.Buffer, groups []scimbridge.Group, p listParams, used int) (int, error) {
	n := 0
	for _, g := range groups {
		b, err := s.encodeGroup(r, g, p.attributes, p.excluded)
		if err != nil {
			return 0, err
		}
		if res.Len() > 0 && used+res.Len()+1+len(b) > maxPageBytes {
			break // itemsPerPage says how many the page holds
		}
		if res.Len() > 0 {
			res.WriteByte(',')
		}
		res.Write(b)
		n++
	}
	return n, nil
}

// filterDisplayName returns the displayName a filter of the form
// displayName eq "x" looks for (an IdP's lookup before a create), for the
// event's target.
func filterDisplayName(f scimbridge.Filter) string {
	c, ok := f.(scimbridge.CompareFilter)
	if !ok || c.Op != scimbridge.OpEq {
		return ""
	}
	attr := c.Attr
	if i := strings.LastIndexByte(attr, ':'); i >= 0 {
		attr = attr[i+1:]
	}
	if v, ok := c.Value.(string); ok && strings.EqualFold(attr, "displayName") {
		return v
	}
	return ""
}

// searchAll serves POST /.search (RFC 7644 §3.4.3): one ListResponse over
// Users, then Groups. The filter applies to each resource type, where an
// attribute only the other type has is unassigned (eq matches nothing, ne
// everything); sortBy orders each type's resources, users first.
// totalResults counts both, and startIndex and count page through users,
// then groups.
func (s *Server) searchAll(w http.ResponseWriter, r *http.Request, p listParams) {
	ctx := r.Context()
	rec := recorderFrom(ctx)
	uq, err := userQuery(rec.org.ID, p, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	gq, err := groupQuery(rec.org.ID, p, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.store.ListProfiles(ctx, uq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Groups start where users end: after the users this page skips or
	// shows, and only once every user has been paged through.
	offset := p.startIndex - 1
	gq.Offset = max(0, offset-users.Total)
	gq.Limit = 0
	if offset+len(users.Profiles) >= users.Total {
		gq.Limit = p.count - len(users.Profiles)
	}
	groups, err := s.store.ListGroups(ctx, gq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	head := listHead(users.Total+groups.Total, p.startIndex)
	var res bytes.Buffer
	n, err := s.encodeUsers(ctx, &res, rec.org.ID, users, p, len(head)+listEnvelope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n == len(users.Profiles) {
		m, err := s.encodeGroups(r, &res, groups.Groups, p, len(head)+listEnvelope)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("encode groups: %w", err))
			return
		}
		n += m
	}
	writeList(w, head, n, &res)
}
