package bridge

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// GoogleUser is the compact form of one Google Directory user: only what
// scope, exclusion and mapping read. Each listed page is converted at once,
// so a whole directory is held in this form, never as the library's structs.
type GoogleUser struct {
	ID           string   `json:"id"` // a decimal string that exceeds int64
	PrimaryEmail string   `json:"primaryEmail"`
	Aliases      []string `json:"aliases,omitempty"` // aliases and non-editable aliases
	GivenName    string   `json:"givenName,omitempty"`
	FamilyName   string   `json:"familyName,omitempty"`
	FullName     string   `json:"fullName,omitempty"`
	Suspended    bool     `json:"suspended,omitempty"`
	Archived     bool     `json:"archived,omitempty"`
	// Deleted is set on users listed with showDeleted=true.
	Deleted       bool           `json:"deleted,omitempty"`
	IsGuest       bool           `json:"isGuestUser,omitempty"`
	OrgUnitPath   string         `json:"orgUnitPath,omitempty"`
	Organizations []Organization `json:"organizations,omitempty"`
	ExternalIDs   []ExternalID   `json:"externalIds,omitempty"`
	Relations     []Relation     `json:"relations,omitempty"`
	Languages     []Language     `json:"languages,omitempty"`
}

// Organization is one entry of a Google user's organizations.
type Organization struct {
	Title       string `json:"title,omitempty"`
	Department  string `json:"department,omitempty"`
	CostCenter  string `json:"costCenter,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Primary     bool   `json:"primary,omitempty"`
	Type        string `json:"type,omitempty"`
}

// ExternalID is one entry of a Google user's externalIds.
type ExternalID struct {
	Type       string `json:"type,omitempty"`
	CustomType string `json:"customType,omitempty"`
	Value      string `json:"value,omitempty"`
}

// Relation is one entry of a Google user's relations.
type Relation struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

// Language is one entry of a Google user's languages.
type Language struct {
	LanguageCode   string `json:"languageCode,omitempty"`
	CustomLanguage string `json:"customLanguage,omitempty"`
	Preference     string `json:"preference,omitempty"` // "preferred" | "not_preferred"
}

// MapUser maps a Google user onto the profile it wants:
//
//	primaryEmail            -> userName, emails [{value, type work, primary}]
//	name                    -> givenName, familyName, displayName (fullName)
//	!suspended && !archived -> active
//	id                      -> googleId and externalId
//	primary (else first) organization -> title, department, costCenter,
//	                           organization (name), userType (description)
//	externalIds type organization -> employeeNumber
//	relations type manager  -> manager (the manager's email, as Google gives it)
//	languages, preferred else first -> preferredLanguage
//
// It is a pure function: reconcile normalises the result.
func MapUser(u GoogleUser) scimbridge.DesiredProfile {
	primary := true
	p := scimbridge.DesiredProfile{
		Active:     !u.Suspended && !u.Archived && !u.Deleted,
		ExternalID: u.ID,
		GoogleID:   u.ID,
	}
	a := &p.Attributes
	a.UserName = u.PrimaryEmail
	if u.PrimaryEmail != "" {
		a.Emails = []scimbridge.Email{{Value: u.PrimaryEmail, Type: "work", Primary: &primary}}
	}
	a.GivenName = u.GivenName
	a.FamilyName = u.FamilyName
	a.DisplayName = u.FullName
	if a.DisplayName == "" {
		a.DisplayName = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
	}
	if o, ok := primaryOrganization(u.Organizations); ok {
		a.Title = o.Title
		a.Department = o.Department
		a.CostCenter = o.CostCenter
		a.Organization = o.Name
		a.UserType = o.Description
	}
	for _, e := range u.ExternalIDs {
		if strings.EqualFold(e.Type, "organization") && e.Value != "" {
			a.EmployeeNumber = e.Value
			break
		}
	}
	for _, r := range u.Relations {
		if strings.EqualFold(r.Type, "manager") && r.Value != "" {
			a.Manager = r.Value
			break
		}
	}
	a.PreferredLanguage = preferredLanguage(u.Languages)
	return p
}

func primaryOrganization(orgs []Organization) (Organization, bool) {
	for _, o := range orgs {
		if o.Primary {
			return o, true
		}
	}
	if len(orgs) > 0 {
		return orgs[0], true
	}
	return Organization{}, false
}

// preferredLanguage is the language marked preferred, else the first; its
// code, else its custom name.
func preferredLanguage(langs []Language) string {
	pick := -1
	for i, l := range langs {
		if l.Preference == "preferred" && (l.LanguageCode != "" || l.CustomLanguage != "") {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, l := range langs {
			if l.LanguageCode != "" || l.CustomLanguage != "" {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		return ""
	}
	if langs[pick].LanguageCode != "" {
		return langs[pick].LanguageCode
	}
	return langs[pick].CustomLanguage
}
