package daemon

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scimserver/scim"
)

// managerResolver resolves enterprise manager.value as the SCIM API does at
// read time: first as a profile id, then as an externalId, among the
// organization's SCIM-managed, non-detached profiles. Results are cached
// for one command.
type managerResolver struct {
	db    scimbridge.ProfileStore
	orgID string
	cache map[string]*scim.Manager
}

func newManagerResolver(db scimbridge.ProfileStore, orgID string) *managerResolver {
	return &managerResolver{db: db, orgID: orgID, cache: map[string]*scim.Manager{}}
}

// resolve returns the manager that value names, or nil when it names none.
func (m *managerResolver) resolve(ctx context.Context, value string) (*scim.Manager, error) {
	if mgr, ok := m.cache[value]; ok {
		return mgr, nil
	}
	visible := func(p *scimbridge.Profile) bool {
		return p.Source == scimbridge.SourceSCIM && !p.Detached()
	}
	var found *scimbridge.Profile
	if id := strings.ToLower(value); uuid.Validate(id) == nil && len(id) == 36 {
		p, err := m.db.Profile(ctx, m.orgID, id)
		if err == nil && visible(&p) {
			found = &p
		} else if err != nil && scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			return nil, fmt.Errorf("resolve manager: %w", err)
		}
	}
	if found == nil {
		ps, err := m.db.LookupProfiles(ctx, m.orgID, scimbridge.ProfileLookup{ExternalID: value})
		if err != nil {
			return nil, fmt.Errorf("resolve manager: %w", err)
		}
		for i := range ps {
			if ps[i].ExternalID == value && visible(&ps[i]) {
				found = &ps[i]
				break
			}
		}
	}
	var mgr *scim.Manager
	if found != nil {
		mgr = &scim.Manager{ID: found.ID, DisplayName: found.DisplayName}
	}
	m.cache[value] = mgr
	return mgr, nil
}
