package scimbridge

import "strconv"

// Value limits, the same on both databases. Keys (userName, externalId,
// every email value, the Google id) stay far below PostgreSQL's index row
// maximum, so no input reaches the database in a form it refuses.
const (
	// MaxKeyBytes bounds userName, externalId, googleId and every
	// emails[].value.
	MaxKeyBytes = 1024
	// MaxStringBytes bounds every other string.
	MaxStringBytes = 4096
	// MaxEmails bounds the emails of one profile.
	MaxEmails = 20
	// MaxPhoneNumbers bounds the phoneNumbers of one profile.
	MaxPhoneNumbers = 20
	// MaxAddresses bounds the addresses of one profile.
	MaxAddresses = 20
)

// CheckLimits reports the first value of d over its limit: a key over
// MaxKeyBytes, another string over MaxStringBytes, or more than MaxEmails
// emails, MaxPhoneNumbers phone numbers or MaxAddresses addresses. The error is EINVALID with scimType invalidValue and names the
// attribute and the limit. Every path that writes a profile calls it (the
// SCIM decoder and PATCH before any SQL runs, reconcile's Validate for the
// bridge and every change it builds).
func CheckLimits(d DesiredProfile) error {
	a := &d.Attributes
	for _, f := range limitedStrings(&d) {
		if len(f.value) > f.limit {
			return overLimit(f.name, len(f.value), f.limit)
		}
	}
	n := 0
	for i, e := range a.Emails {
		if e.Value == "" {
			continue // dropped, as unassigned
		}
		n++
		entry := "emails[" + strconv.Itoa(i) + "]."
		switch {
		case len(e.Value) > MaxKeyBytes:
			return overLimit(entry+"value", len(e.Value), MaxKeyBytes)
		case len(e.Type) > MaxStringBytes:
			return overLimit(entry+"type", len(e.Type), MaxStringBytes)
		case len(e.Display) > MaxStringBytes:
			return overLimit(entry+"display", len(e.Display), MaxStringBytes)
		}
	}
	if n > MaxEmails {
		return ScimErrorf(EINVALID, "invalidValue", "emails has %d entries; the limit is %d", n, MaxEmails)
	}
	if n := len(a.PhoneNumbers); n > MaxPhoneNumbers {
		return ScimErrorf(EINVALID, "invalidValue", "phoneNumbers has %d entries; the limit is %d", n, MaxPhoneNumbers)
	}
	if n := len(a.Addresses); n > MaxAddresses {
		return ScimErrorf(EINVALID, "invalidValue", "addresses has %d entries; the limit is %d", n, MaxAddresses)
	}
	return nil
}

// limitedString is one single-valued string attribute with its limit.
type limitedString struct {
	name, value string
	limit       int
}

// limitedStrings lists d's string attributes but emails with their
// limits, the sub-attributes of every phone number and address included:
// the one list CheckLimits and ValueBytes walk.
func limitedStrings(d *DesiredProfile) []limitedString {
	a := &d.Attributes
	out := make([]limitedString, 0, 23+3*len(a.PhoneNumbers)+7*len(a.Addresses))
	out = append(out, []limitedString{
		{"userName", a.UserName, MaxKeyBytes},
		{"externalId", d.ExternalID, MaxKeyBytes},
		{"googleId", d.GoogleID, MaxKeyBytes},
		{"displayName", a.DisplayName, MaxStringBytes},
		{"title", a.Title, MaxStringBytes},
		{"userType", a.UserType, MaxStringBytes},
		{"name.givenName", a.GivenName, MaxStringBytes},
		{"name.familyName", a.FamilyName, MaxStringBytes},
		{"name.formatted", a.Formatted, MaxStringBytes},
		{"name.middleName", a.MiddleName, MaxStringBytes},
		{"name.honorificPrefix", a.HonorificPrefix, MaxStringBytes},
		{"name.honorificSuffix", a.HonorificSuffix, MaxStringBytes},
		{"nickName", a.NickName, MaxStringBytes},
		{"locale", a.Locale, MaxStringBytes},
		{"timezone", a.Timezone, MaxStringBytes},
		{"preferredLanguage", a.PreferredLanguage, MaxStringBytes},
		{"profileUrl", a.ProfileURL, MaxStringBytes},
		{"employeeNumber", a.EmployeeNumber, MaxStringBytes},
		{"department", a.Department, MaxStringBytes},
		{"costCenter", a.CostCenter, MaxStringBytes},
		{"organization", a.Organization, MaxStringBytes},
		{"division", a.Division, MaxStringBytes},
		{"manager.value", a.Manager, MaxStringBytes},
	}...)
	for i, p := range a.PhoneNumbers {
		entry := "phoneNumbers[" + strconv.Itoa(i) + "]."
		out = append(out,
			limitedString{entry + "value", p.Value, MaxStringBytes},
			limitedString{entry + "type", p.Type, MaxStringBytes},
			limitedString{entry + "display", p.Display, MaxStringBytes})
	}
	for i, ad := range a.Addresses {
		entry := "addresses[" + strconv.Itoa(i) + "]."
		out = append(out,
			limitedString{entry + "formatted", ad.Formatted, MaxStringBytes},
			limitedString{entry + "streetAddress", ad.StreetAddress, MaxStringBytes},
			limitedString{entry + "locality", ad.Locality, MaxStringBytes},
			limitedString{entry + "region", ad.Region, MaxStringBytes},
			limitedString{entry + "postalCode", ad.PostalCode, MaxStringBytes},
			limitedString{entry + "country", ad.Country, MaxStringBytes},
			limitedString{entry + "type", ad.Type, MaxStringBytes})
	}
	return out
}

// ValueBytes is the size of d's attribute values: its strings, every
// email's, phone number's and address's. It bounds what a profile costs in memory and on the wire, less
// a per-profile overhead, so a listing can stop at a byte budget.
func ValueBytes(d DesiredProfile) int {
	n := 0
	for _, f := range limitedStrings(&d) {
		n += len(f.value)
	}
	for _, e := range d.Emails {
		n += len(e.Value) + len(e.Type) + len(e.Display)
	}
	return n
}

func overLimit(name string, n, limit int) error {
	return ScimErrorf(EINVALID, "invalidValue", "%s is %d bytes long; the limit is %d bytes", name, n, limit)
}
