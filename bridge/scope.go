package bridge

import (
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// InScope applies an organization's scope to a listed user, locally (Google's
// search index lags, so the listing is never filtered server-side). A user is
// in scope when it is not a guest (unless IncludeGuests), its primary email's
// domain is one of Domains (case-insensitive; none means all), and its org
// unit is one of OrgUnits or below one (none means all). reason says why a
// user is out of scope.
func InScope(u GoogleUser, s scimbridge.BridgeSettings) (in bool, reason string) {
	if u.IsGuest && !s.IncludeGuests {
		return false, "guest user"
	}
	if len(s.Domains) > 0 {
		d := emailDomain(u.PrimaryEmail)
		ok := false
		for _, want := range s.Domains {
			if strings.EqualFold(d, strings.TrimPrefix(strings.TrimSpace(want), "@")) {
				ok = true
				break
			}
		}
		if !ok {
			return false, "domain " + d + " not in scope"
		}
	}
	if len(s.OrgUnits) > 0 {
		ou := cleanOrgUnit(u.OrgUnitPath)
		ok := false
		for _, want := range s.OrgUnits {
			if orgUnitWithin(ou, cleanOrgUnit(want)) {
				ok = true
				break
			}
		}
		if !ok {
			return false, "org unit " + ou + " not in scope"
		}
	}
	return true, ""
}

// Excluded reports whether an admin excluded the user: one of ExcludedUsers
// equals its primary email or an alias (case-insensitive), or its Google id
// is pinned in ExcludedGoogleID, so an exclusion survives a rename.
func Excluded(u GoogleUser, s scimbridge.BridgeSettings) bool {
	for _, id := range s.ExcludedGoogleID {
		if id != "" && id == u.ID {
			return true
		}
	}
	if len(s.ExcludedUsers) == 0 {
		return false
	}
	names := make([]string, 0, 1+len(u.Aliases))
	names = append(names, textkey.Key(u.PrimaryEmail))
	for _, a := range u.Aliases {
		names = append(names, textkey.Key(a))
	}
	for _, x := range s.ExcludedUsers {
		k := textkey.Key(strings.TrimSpace(x))
		if k == "" {
			continue
		}
		for _, n := range names {
			if n == k {
				return true
			}
		}
	}
	return false
}

func emailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

// cleanOrgUnit gives an org-unit path one form: a leading slash, no trailing
// slash, "/" for the root.
func cleanOrgUnit(p string) string {
	p = strings.TrimSpace(p)
	p = "/" + strings.Trim(p, "/")
	return p
}

// orgUnitWithin reports whether ou is scope or below it. Org-unit names are
// compared case-insensitively, so a setting typed in another case matches.
func orgUnitWithin(ou, scope string) bool {
	if scope == "/" {
		return true
	}
	if len(ou) < len(scope) || !strings.EqualFold(ou[:len(scope)], scope) {
		return false
	}
	return len(ou) == len(scope) || ou[len(scope)] == '/'
}
