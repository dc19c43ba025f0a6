package scimserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// groupFilter is what a /Groups filter asks for: equality on displayName
// (case-insensitive), externalId, id and members.value, joined by and.
type groupFilter struct {
	q  scimbridge.GroupQuery
	id string
	// none is set when the filter cannot match (one attribute equal to
	// two values, a member id that is not a UUID).
	none bool
}

// parseGroupFilter reads a /Groups filter; any other shape is 400
// invalidFilter.
func parseGroupFilter(f scimbridge.Filter, gf *groupFilter) error {
	switch f := f.(type) {
	case scimbridge.AndFilter:
		if err := parseGroupFilter(f.Left, gf); err != nil {
			return err
		}
		return parseGroupFilter(f.Right, gf)
	case scimbridge.ValuePathFilter:
		c, ok := f.Filter.(scimbridge.CompareFilter)
		if ok && strings.EqualFold(f.Attr, "members") && strings.EqualFold(c.Attr, "value") {
			return setGroupFilter(gf, "members.value", c)
		}
	case scimbridge.CompareFilter:
		attr := f.Attr
		if p := scim.SchemaGroup + ":"; len(attr) > len(p) && strings.EqualFold(attr[:len(p)], p) {
			attr = attr[len(p):]
		}
		return setGroupFilter(gf, attr, f)
	}
	return errGroupFilter
}

var errGroupFilter = scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidFilter",
	"a Groups filter compares displayName, externalId, id or members.value with eq, joined by and")

func setGroupFilter(gf *groupFilter, attr string, c scimbridge.CompareFilter) error {
	v, ok := c.Value.(string)
	if !ok || c.Op != scimbridge.OpEq {
		return errGroupFilter
	}
	var dst *string
	switch strings.ToLower(attr) {
	case "displayname":
		dst = &gf.q.DisplayName
	case "externalid":
		dst = &gf.q.ExternalID
	case "id":
		dst, v = &gf.id, strings.ToLower(v)
	case "members.value":
		dst, v = &gf.q.MemberID, strings.ToLower(v)
	default:
		return errGroupFilter
	}
	if *dst != "" && *dst != v {
		gf.none = true
	}
	*dst = v
	return nil
}

// listGroups answers one page of the organization's SCIM groups, ordered
// by id (sortBy is not applied to groups).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, p listParams) {
	rec := recorderFrom(r.Context())
	gf := groupFilter{q: scimbridge.GroupQuery{OrgID: rec.org.ID, Sources: []scimbridge.Source{scimbridge.SourceSCIM}}}
	if strings.TrimSpace(p.filter) != "" {
		f, err := scim.ParseFilter(p.filter)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := parseGroupFilter(f, &gf); err != nil {
			s.writeError(w, r, err)
			return
		}
		rec.target = gf.q.DisplayName
	}
	page, err := s.findGroups(r, gf, p.startIndex-1, p.count)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var res bytes.Buffer
	n := 0
	for _, g := range page.Groups {
		b, err := s.encodeGroup(r, g, p.attributes, p.excluded)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if n > 0 && res.Len()+len(b) > maxPageBytes {
			break // itemsPerPage says how many the page holds
		}
		if n > 0 {
			res.WriteByte(',')
		}
		res.Write(b)
		n++
	}
	body := fmt.Appendf(nil, `{"schemas":[%q],"totalResults":%d,"startIndex":%d,"itemsPerPage":%d,"Resources":[`,
		scim.SchemaListResponse, page.Total, p.startIndex, n)
	body = append(append(body, res.Bytes()...), "]}"...)
	writeSCIM(w, http.StatusOK, body)
}

// findGroups runs a group query; a filter on id looks that one group up
// and checks the other conditions on it.
func (s *Server) findGroups(r *http.Request, gf groupFilter, offset, limit int) (scimbridge.GroupPage, error) {
	q := gf.q
	if gf.none || q.MemberID != "" && !validID(q.MemberID) {
		return scimbridge.GroupPage{}, nil
	}
	if gf.id == "" {
		q.Offset, q.Limit = offset, limit
		page, err := s.store.ListGroups(r.Context(), q)
		if err != nil {
			return page, fmt.Errorf("list groups: %w", err)
		}
		return page, nil
	}
	if !validID(gf.id) {
		return scimbridge.GroupPage{}, nil
	}
	g, err := s.store.Group(r.Context(), q.OrgID, gf.id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.GroupPage{}, nil
	} else if err != nil {
		return scimbridge.GroupPage{}, fmt.Errorf("load group: %w", err)
	}
	match := g.Source == scimbridge.SourceSCIM &&
		(q.DisplayName == "" || strings.EqualFold(q.DisplayName, g.DisplayName)) &&
		(q.ExternalID == "" || q.ExternalID == g.ExternalID)
	if match && q.MemberID != "" {
		groups, err := s.store.ProfileGroups(r.Context(), q.OrgID, q.MemberID)
		if err != nil {
			return scimbridge.GroupPage{}, fmt.Errorf("load profile groups: %w", err)
		}
		match = false
		for _, pg := range groups {
			match = match || pg.ID == g.ID
		}
	}
	if !match {
		return scimbridge.GroupPage{}, nil
	}
	page := scimbridge.GroupPage{Total: 1}
	if offset == 0 && limit > 0 {
		page.Groups = []scimbridge.Group{g}
	}
	return page, nil
}
