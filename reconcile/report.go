package reconcile

import "github.com/scimbridge/scimbridge"

// ReportItem renders a planned change as a report item; held marks a
// change the guard holds. The user is named by the profile's userName,
// else the one it gave up (FormerUserName, or the userName field's before
// value for the temporary release of a rename cycle), else the desired
// one.
func (pc PlannedChange) ReportItem(held bool) scimbridge.ReportItem {
	prof := &pc.Change.Profile
	userName := prof.UserName
	if userName == "" {
		userName = prof.FormerUserName
	}
	for _, f := range pc.Change.Fields {
		if userName == "" && f.Field == "userName" {
			userName = f.Before
		}
	}
	if userName == "" {
		userName = pc.Desired.p.UserName
	}
	googleID := prof.GoogleID
	if googleID == "" {
		googleID = pc.Desired.p.GoogleID
	}
	return scimbridge.ReportItem{
		Kind:      pc.Change.Kind,
		ProfileID: prof.ID,
		GoogleID:  googleID,
		UserName:  userName,
		Reason:    pc.Reason,
		Fields:    pc.Change.Fields,
		Held:      held,
	}
}

func excludedItem(s *StoredProfile) scimbridge.ReportItem {
	return scimbridge.ReportItem{Kind: ItemExcluded, ProfileID: s.ID, GoogleID: s.GoogleID,
		UserName: s.UserName, Reason: ReasonExcludedActive}
}

// suspension is the reason a listed user is inactive in Google.
func suspension(u *DirectoryUser) string {
	if u.Archived {
		return ReasonArchived
	}
	return ReasonSuspended
}

func inactiveWord(u *DirectoryUser) string {
	if u.Archived {
		return "archived"
	}
	return "suspended"
}
