package scimserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// encodeUserFor renders p for a response to r, honouring the request's
// attributes and excludedAttributes query parameters.
func (s *Server) encodeUserFor(r *http.Request, p scimbridge.Profile, m *ManagerResolver) ([]byte, error) {
	var attrs, excluded []string
	for k, v := range r.URL.Query() {
		switch {
		case len(v) == 0:
		case strings.EqualFold(k, "attributes"):
			attrs = scim.ParseAttributeList(v[0])
		case strings.EqualFold(k, "excludedAttributes"):
			excluded = scim.ParseAttributeList(v[0])
		}
	}
	return s.encodeUser(r.Context(), p, attrs, excluded, m)
}

// encodeUser renders p as a SCIM User, its manager resolved
// and its read-only groups listed.
func (s *Server) encodeUser(ctx context.Context, p scimbridge.Profile, attrs, excluded []string, m *ManagerResolver) ([]byte, error) {
	groups, err := s.store.ProfileGroups(ctx, p.OrgID, p.ID)
	if err != nil {
		return nil, fmt.Errorf("load user groups: %w", err)
	}
	return EncodeUser(ctx, p, scim.EncodeOptions{BaseURL: s.baseURL, Attributes: attrs, ExcludedAttributes: excluded,
		Groups: s.groupRefs(groups)}, m)
}

// groupRefs are the entries of a user's groups attribute: its SCIM
// groups (the others are not resources of this API).
func (s *Server) groupRefs(groups []scimbridge.Group) []scim.GroupRef {
	var refs []scim.GroupRef
	for _, g := range groups {
		if g.Source == scimbridge.SourceSCIM {
			refs = append(refs, scim.GroupRef{Value: g.ID, Display: g.DisplayName, Ref: s.baseURL + "/Groups/" + g.ID})
		}
	}
	return refs
}

// EncodeUser renders p as a SCIM User exactly as the SCIM API sends it,
// its manager resolved through m (nil: left unresolved). The command line
// prints profiles with it.
func EncodeUser(ctx context.Context, p scimbridge.Profile, opts scim.EncodeOptions, m *ManagerResolver) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeUserTo(ctx, &b, p, opts, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeUserTo appends what EncodeUser returns to b.
func encodeUserTo(ctx context.Context, b *bytes.Buffer, p scimbridge.Profile, opts scim.EncodeOptions, m *ManagerResolver) error {
	if p.Manager != "" && m != nil {
		mgr, err := m.Resolve(ctx, p.Manager)
		if err != nil {
			return err
		}
		opts.Manager = mgr
	}
	if err := scim.EncodeUserTo(b, p, opts); err != nil {
		return fmt.Errorf("encode user: %w", err)
	}
	return nil
}

// ManagerResolver resolves enterprise manager.value at read time: first as
// a profile id, then as an externalId, among the organization's SCIM users
// (the resources a $ref can point to). Profiles of the page being rendered
// are looked at before the store; results are cached for the request.
type ManagerResolver struct {
	store scimbridge.ProfileStore
	orgID string
	page  []scimbridge.Profile
	cache map[string]*scim.Manager
}

func (s *Server) newManagerResolver(orgID string, page []scimbridge.Profile) *ManagerResolver {
	return NewManagerResolver(s.store, orgID, page)
}

// NewManagerResolver resolves managers of the organization's profiles;
// page, which may be nil, holds profiles being rendered together.
func NewManagerResolver(store scimbridge.ProfileStore, orgID string, page []scimbridge.Profile) *ManagerResolver {
	return &ManagerResolver{store: store, orgID: orgID, page: page, cache: map[string]*scim.Manager{}}
}

// Resolve returns the manager value names, or nil when it names no user.
func (m *ManagerResolver) Resolve(ctx context.Context, value string) (*scim.Manager, error) {
	if mgr, ok := m.cache[value]; ok {
		return mgr, nil
	}
	p, err := m.find(ctx, value)
	if err != nil {
		return nil, fmt.Errorf("resolve manager: %w", err)
	}
	var mgr *scim.Manager
	if p != nil {
		mgr = &scim.Manager{ID: p.ID, DisplayName: p.DisplayName}
	}
	m.cache[value] = mgr
	return mgr, nil
}

func (m *ManagerResolver) find(ctx context.Context, value string) (*scimbridge.Profile, error) {
	visible := func(p *scimbridge.Profile) bool {
		return p.Source == scimbridge.SourceSCIM && !p.Detached()
	}
	if id := strings.ToLower(value); validID(id) {
		for i := range m.page {
			if m.page[i].ID == id && visible(&m.page[i]) {
				return &m.page[i], nil
			}
		}
		p, err := m.store.Profile(ctx, m.orgID, id)
		if err == nil && visible(&p) {
			return &p, nil
		} else if err != nil && scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			return nil, err
		}
	}
	for i := range m.page {
		if m.page[i].ExternalID == value && visible(&m.page[i]) {
			return &m.page[i], nil
		}
	}
	found, err := m.store.LookupProfiles(ctx, m.orgID, scimbridge.ProfileLookup{ExternalID: value})
	if err != nil {
		return nil, err
	}
	for i := range found {
		if found[i].ExternalID == value && visible(&found[i]) {
			return &found[i], nil
		}
	}
	return nil, nil
}
