package reconcile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// DiffOptions loosens how emails compare. The zero value is SCIM semantics:
// emails are stored as sent, so a change of order or case is a change that
// must be written.
type DiffOptions struct {
	// IgnoreEmailOrder compares emails as a multiset.
	IgnoreEmailOrder bool
	// FoldEmailCase compares email values case-insensitively (lower-cased,
	// Unicode NFC); type, display and primary still compare exactly.
	FoldEmailCase bool
}

// Diff returns what would change if desired replaced stored, one entry per
// SCIM attribute, before -> after, in a fixed order. An empty result means
// unchanged. Both sides are in normal form (desired by its type, stored
// normalised here), so nil and empty emails, or emails without a value,
// never count as a change; everything else compares exactly (SCIM
// semantics, see DiffOptions).
func Diff(stored scimbridge.Profile, desired Desired) []scimbridge.FieldChange {
	return DiffWith(DiffOptions{}, stored, desired)
}

// DiffWith is Diff with looser email comparison, for the bridge, whose
// emails come from Google rather than from a client that expects them back
// exactly as sent.
func DiffWith(opts DiffOptions, stored scimbridge.Profile, desired Desired) []scimbridge.FieldChange {
	return diffDesired(opts, NormalizeProfile(stored).p, desired.p)
}

// diffDesired compares two normalised desired profiles.
func diffDesired(opts DiffOptions, before, after scimbridge.DesiredProfile) []scimbridge.FieldChange {
	var out []scimbridge.FieldChange
	add := func(name, b, a string) {
		if b != a {
			out = append(out, scimbridge.FieldChange{Field: name, Before: b, After: a})
		}
	}
	bc, ac := coreFields(&before), coreFields(&after)
	for i := range bc {
		add(bc[i].name, bc[i].value, ac[i].value)
	}
	add("active", strconv.FormatBool(before.Active), strconv.FormatBool(after.Active))
	if !emailsEqual(opts, before.Emails, after.Emails) {
		out = append(out, scimbridge.FieldChange{
			Field:  "emails",
			Before: renderEmails(before.Emails),
			After:  renderEmails(after.Emails),
		})
	}
	add("phoneNumbers", renderList(before.PhoneNumbers), renderList(after.PhoneNumbers))
	add("addresses", renderList(before.Addresses), renderList(after.Addresses))
	be, ae := extraFields(&before), extraFields(&after)
	for i := range be {
		add(be[i].name, be[i].value, ae[i].value)
	}
	return out
}

// namedValue is one single-valued attribute and its SCIM path.
type namedValue struct {
	name  string
	value string
}

// coreFieldCount is how many of scalarFields are core attributes; the
// enterprise attributes and identifiers follow them.
const coreFieldCount = 15

// coreFields returns the single-valued core attributes of d in diff order.
func coreFields(d *scimbridge.DesiredProfile) []namedValue {
	f := scalarFields(d)
	return f[:coreFieldCount]
}

// extraFields returns the enterprise attributes and the identifiers of d in
// diff order.
func extraFields(d *scimbridge.DesiredProfile) []namedValue {
	f := scalarFields(d)
	return f[coreFieldCount:]
}

// scalarFields returns every single-valued string attribute of d:
// coreFields then extraFields, in an array so that callers that only read
// it allocate nothing.
func scalarFields(d *scimbridge.DesiredProfile) [23]namedValue {
	return [23]namedValue{
		{"userName", d.UserName},
		{"name.formatted", d.Formatted},
		{"name.familyName", d.FamilyName},
		{"name.givenName", d.GivenName},
		{"name.middleName", d.MiddleName},
		{"name.honorificPrefix", d.HonorificPrefix},
		{"name.honorificSuffix", d.HonorificSuffix},
		{"displayName", d.DisplayName},
		{"nickName", d.NickName},
		{"profileUrl", d.ProfileURL},
		{"title", d.Title},
		{"userType", d.UserType},
		{"preferredLanguage", d.PreferredLanguage},
		{"locale", d.Locale},
		{"timezone", d.Timezone},
		{"employeeNumber", d.EmployeeNumber},
		{"costCenter", d.CostCenter},
		{"organization", d.Organization},
		{"division", d.Division},
		{"department", d.Department},
		{"manager", d.Manager},
		{"externalId", d.ExternalID},
		{"googleId", d.GoogleID},
	}
}

// emailsEqual compares two normalised email lists under opts.
func emailsEqual(opts DiffOptions, a, b []scimbridge.Email) bool {
	if len(a) != len(b) {
		return false
	}
	ka, kb := emailKeys(opts, a), emailKeys(opts, b)
	if opts.IgnoreEmailOrder {
		slices.Sort(ka)
		slices.Sort(kb)
	}
	return slices.Equal(ka, kb)
}

// emailKeys encodes each email as one comparable string.
func emailKeys(opts DiffOptions, emails []scimbridge.Email) []string {
	keys := make([]string, len(emails))
	for i, e := range emails {
		if opts.FoldEmailCase {
			e.Value = textkey.Key(e.Value)
		}
		keys[i] = emailKey(e)
	}
	return keys
}

// emailKey is an unambiguous encoding of one email (length-prefixed parts).
func emailKey(e scimbridge.Email) string {
	primary := "-"
	if e.Primary != nil {
		primary = strconv.FormatBool(*e.Primary)
	}
	var b strings.Builder
	for _, s := range []string{e.Value, e.Type, e.Display, primary} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// renderEmails renders emails for reports:
// `a@x.com (work, primary), b@y.com (home, display "B")`.
func renderEmails(emails []scimbridge.Email) string {
	parts := make([]string, 0, len(emails))
	for _, e := range emails {
		var attrs []string
		if e.Type != "" {
			attrs = append(attrs, e.Type)
		}
		if e.Primary != nil {
			if *e.Primary {
				attrs = append(attrs, "primary")
			} else {
				attrs = append(attrs, "not primary")
			}
		}
		if e.Display != "" {
			attrs = append(attrs, fmt.Sprintf("display %q", e.Display))
		}
		s := e.Value
		if len(attrs) > 0 {
			s += " (" + strings.Join(attrs, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
