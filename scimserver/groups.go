package scimserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// errNoGroup is the one 404 of every missing, foreign, non-SCIM or
// malformed group id.
var errNoGroup = scimbridge.Errorf(scimbridge.ENOTFOUND, "group not found")

// loadGroup returns the group {id} names when it is one of the
// organization's SCIM groups; 404 otherwise (before any SQL for a
// malformed id).
func (s *Server) loadGroup(r *http.Request) (scimbridge.Group, error) {
	rec := recorderFrom(r.Context())
	id := strings.ToLower(r.PathValue("id"))
	if !validID(id) {
		return scimbridge.Group{}, errNoGroup
	}
	g, err := s.store.Group(r.Context(), rec.org.ID, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Group{}, errNoGroup
	} else if err != nil {
		return scimbridge.Group{}, fmt.Errorf("load group: %w", err)
	}
	if g.Source != scimbridge.SourceSCIM {
		return scimbridge.Group{}, errNoGroup
	}
	rec.target = g.DisplayName
	return g, nil
}

// groupMembers returns every member of a group, paged through the store.
func (s *Server) groupMembers(r *http.Request, g scimbridge.Group) ([]scimbridge.GroupMember, error) {
	var all []scimbridge.GroupMember
	after := ""
	for {
		page, err := s.store.GroupMembers(r.Context(), g.OrgID, g.ID, after, scimbridge.MaxMemberPage)
		if err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
		all = append(all, page...)
		if len(page) < scimbridge.MaxMemberPage {
			return all, nil
		}
		after = page[len(page)-1].ProfileID
	}
}

// memberIDs returns the ids of a group's members as a set.
func (s *Server) memberIDs(r *http.Request, g scimbridge.Group) (map[string]bool, error) {
	ms, err := s.groupMembers(r, g)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ms))
	for _, m := range ms {
		set[m.ProfileID] = true
	}
	return set, nil
}

// encodeGroup renders g with the request's attributes and
// excludedAttributes, loading its members only when they are shown.
func (s *Server) encodeGroup(r *http.Request, g scimbridge.Group, attrs, excluded []string) ([]byte, error) {
	var members []scimbridge.GroupMember
	if scim.GroupMembersWanted(attrs, excluded) {
		var err error
		if members, err = s.groupMembers(r, g); err != nil {
			return nil, err
		}
	}
	return scim.EncodeGroup(g, members, scim.EncodeOptions{BaseURL: s.baseURL, Attributes: attrs, ExcludedAttributes: excluded})
}

// queryAttributes returns the attributes and excludedAttributes query
// parameters of r.
func queryAttributes(r *http.Request) (attrs, excluded []string) {
	for k, v := range r.URL.Query() {
		switch {
		case len(v) == 0:
		case strings.EqualFold(k, "attributes"):
			attrs = scim.ParseAttributeList(v[0])
		case strings.EqualFold(k, "excludedAttributes"):
			excluded = scim.ParseAttributeList(v[0])
		}
	}
	return attrs, excluded
}

// handleGetGroup serves GET /Groups/{id}.
func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.loadGroup(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	attrs, excluded := queryAttributes(r)
	b, err := s.encodeGroup(r, g, attrs, excluded)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", scim.ETag(g.Version))
	writeSCIM(w, http.StatusOK, b)
}

// handleCreateGroup serves POST /Groups.
func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	rec := recorderFrom(r.Context())
	body, err := jsonBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := scim.DecodeGroup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec.target = req.DisplayName
	now := s.clock()
	g := scimbridge.Group{
		ID: uuid.NewString(), OrgID: rec.org.ID, DisplayName: req.DisplayName, ExternalID: req.ExternalID,
		Source: scimbridge.SourceSCIM, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	add := dedupe(req.Members)
	if err := s.commitGroup(w, r, scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g, AddMembers: add}, http.StatusCreated); err != nil {
		s.writeError(w, r, err)
	}
}

// handleReplaceGroup serves PUT /Groups/{id}: the body's displayName,
// externalId and member list replace the group's; members missing from
// the list are removed.
func (s *Server) handleReplaceGroup(w http.ResponseWriter, r *http.Request) {
	if !validID(r.PathValue("id")) {
		s.writeError(w, r, errNoGroup)
		return
	}
	body, err := jsonBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := scim.DecodeGroup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.modifyGroup(w, r, func(scimbridge.Group) (scim.GroupPatch, error) {
		return scim.GroupPatch{DisplayName: req.DisplayName, ExternalID: req.ExternalID, Replace: dedupe(req.Members)}, nil
	})
}

// handlePatchGroup serves PATCH /Groups/{id}.
func (s *Server) handlePatchGroup(w http.ResponseWriter, r *http.Request) {
	if !validID(r.PathValue("id")) {
		s.writeError(w, r, errNoGroup)
		return
	}
	body, err := jsonBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ops, err := scim.DecodePatch(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.modifyGroup(w, r, func(g scimbridge.Group) (scim.GroupPatch, error) {
		return scim.ApplyGroupPatch(g.DisplayName, g.ExternalID, ops)
	})
}

// handleDeleteGroup serves DELETE /Groups/{id}: the group and its
// memberships go; the profiles stay.
func (s *Server) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	s.retryWrite(w, r, func(ifMatch string) error {
		g, err := s.loadGroup(r)
		if err != nil {
			return err
		}
		if err := checkGroupIfMatch(ifMatch, g.Version); err != nil {
			return err
		}
		c := scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete, Group: g, ExpectedVersion: g.Version}
		return s.commitGroup(w, r, c, http.StatusNoContent)
	})
}

// modifyGroup updates the group named by {id} to what change makes of
// it. A change that alters nothing is answered 200 without a write.
func (s *Server) modifyGroup(w http.ResponseWriter, r *http.Request, change func(scimbridge.Group) (scim.GroupPatch, error)) {
	s.retryWrite(w, r, func(ifMatch string) error {
		stored, err := s.loadGroup(r)
		if err != nil {
			return err
		}
		if err := checkGroupIfMatch(ifMatch, stored.Version); err != nil {
			return err
		}
		p, err := change(stored)
		if err != nil {
			return err
		}
		add, remove := dedupe(p.Add), dedupe(p.Remove)
		if p.Replace != nil {
			current, err := s.memberIDs(r, stored)
			if err != nil {
				return err
			}
			want := make(map[string]bool, len(p.Replace))
			for _, id := range p.Replace {
				want[id] = true
			}
			add, remove = add[:0], remove[:0]
			for _, id := range dedupe(append(p.Replace, p.Add...)) {
				if !current[id] && !slices.Contains(p.Remove, id) {
					add = append(add, id)
				}
			}
			for id := range current {
				if !want[id] || slices.Contains(p.Remove, id) {
					remove = append(remove, id)
				}
			}
			slices.Sort(remove)
		}
		if p.DisplayName == stored.DisplayName && p.ExternalID == stored.ExternalID && len(add) == 0 && len(remove) == 0 {
			attrs, excluded := queryAttributes(r)
			b, err := s.encodeGroup(r, stored, attrs, excluded)
			if err != nil {
				return err
			}
			w.Header().Set("ETag", scim.ETag(stored.Version))
			writeSCIM(w, http.StatusOK, b)
			return nil
		}
		g := stored
		g.DisplayName, g.ExternalID = p.DisplayName, p.ExternalID
		g.Version, g.UpdatedAt = stored.Version+1, s.clock()
		c := scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate, Group: g, ExpectedVersion: stored.Version,
			AddMembers: add, RemoveMembers: validIDs(remove)}
		return s.commitGroup(w, r, c, http.StatusOK)
	})
}

// commitGroup checks a group change, commits it with the request's event
// (which carries the status and body about to be sent) and sends them. On
// error nothing is sent.
func (s *Server) commitGroup(w http.ResponseWriter, r *http.Request, c scimbridge.GroupChange, status int) error {
	ctx := r.Context()
	rec := recorderFrom(ctx)
	g := c.Group
	rec.target = g.DisplayName
	if err := scimbridge.CheckGroupLimits(g); err != nil {
		return err
	}
	if n := len(c.AddMembers) + len(c.RemoveMembers); n > scimbridge.MaxMemberChanges {
		return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue",
			"one request changes at most %d members; this one changes %d", scimbridge.MaxMemberChanges, n)
	}
	if err := s.checkMembers(r, c.AddMembers); err != nil {
		return err
	}
	var body []byte
	if status != http.StatusNoContent {
		var err error
		if body, err = s.encodeChangedGroup(r, c); err != nil {
			return err
		}
	}
	ev := s.newEvent(rec, r, status, body)
	ev.Kind = c.Kind
	if err := s.store.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: c, Event: ev}); err != nil {
		return fmt.Errorf("commit %s: %w", c.Kind, err)
	}
	rec.committed, rec.kind = true, c.Kind
	s.committed.Add(1)
	if status == http.StatusCreated {
		w.Header().Set("Location", s.baseURL+"/Groups/"+g.ID)
	}
	if status != http.StatusNoContent {
		w.Header().Set("ETag", scim.ETag(g.Version))
	}
	writeSCIM(w, status, body)
	return nil
}

// encodeChangedGroup renders the group as it will be once c commits: its
// stored members with c's additions and removals.
func (s *Server) encodeChangedGroup(r *http.Request, c scimbridge.GroupChange) ([]byte, error) {
	attrs, excluded := queryAttributes(r)
	var members []scimbridge.GroupMember
	if scim.GroupMembersWanted(attrs, excluded) {
		if c.Kind != scimbridge.ChangeGroupCreate {
			var err error
			if members, err = s.groupMembers(r, c.Group); err != nil {
				return nil, err
			}
		}
		removed := make(map[string]bool, len(c.RemoveMembers))
		for _, id := range c.RemoveMembers {
			removed[id] = true
		}
		have := make(map[string]bool, len(members))
		kept := members[:0]
		for _, m := range members {
			if !removed[m.ProfileID] {
				kept = append(kept, m)
				have[m.ProfileID] = true
			}
		}
		members = kept
		var add []string
		for _, id := range c.AddMembers {
			if !have[id] && !removed[id] {
				add = append(add, id)
			}
		}
		if len(add) > 0 {
			ps, err := s.store.ProfilesByID(r.Context(), c.Group.OrgID, add)
			if err != nil {
				return nil, fmt.Errorf("load members: %w", err)
			}
			for _, p := range ps {
				members = append(members, scimbridge.GroupMember{ProfileID: p.ID, UserName: p.UserName, DisplayName: p.Attributes.DisplayName})
			}
		}
		slices.SortFunc(members, func(a, b scimbridge.GroupMember) int { return strings.Compare(a.ProfileID, b.ProfileID) })
	}
	return scim.EncodeGroup(c.Group, members, scim.EncodeOptions{BaseURL: s.baseURL, Attributes: attrs, ExcludedAttributes: excluded})
}

// checkMembers reports a 400 invalidValue unless every id names a
// SCIM-managed, non-detached profile of the organization.
func (s *Server) checkMembers(r *http.Request, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if !validID(id) {
			return errNoMember(id)
		}
	}
	org := recorderFrom(r.Context()).org
	ps, err := s.store.ProfilesByID(r.Context(), org.ID, ids)
	if err != nil {
		return fmt.Errorf("look up members: %w", err)
	}
	visible := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p.Source == scimbridge.SourceSCIM && !p.Detached() {
			visible[p.ID] = true
		}
	}
	for _, id := range ids {
		if !visible[id] {
			return errNoMember(id)
		}
	}
	return nil
}

func errNoMember(id string) error {
	if len(id) > 64 {
		id = id[:64]
	}
	return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "member %q is not a user of this organization", id)
}

// checkGroupIfMatch is checkIfMatch for a group.
func checkGroupIfMatch(ifMatch string, version int64) error {
	if err := checkIfMatch(ifMatch, version); err != nil {
		return scimbridge.Errorf(scimbridge.EPRECONDITION, "If-Match does not match the group's current version %s", scim.ETag(version))
	}
	return nil
}

// dedupe returns ids without repeats, in first-seen order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// validIDs drops ids that are not UUIDs: they name no member to remove.
func validIDs(ids []string) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if validID(id) {
			out = append(out, id)
		}
	}
	return out
}
