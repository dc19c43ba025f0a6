package reconcile

import (
	"encoding/json"
	"net/mail"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// Desired is a desired profile in normal form, with what normalising it
// found: its profile email, or why it cannot be stored. The only way to
// get one is Normalize (where desired state enters: a SCIM request, a
// Google mapping, a held plan read back) or NormalizeProfile, so the
// functions that take one (Decide, NewProfile, Apply, Adopt, Diff, Hash)
// never normalise or check it again. The zero value is an empty profile
// that cannot be stored.
type Desired struct {
	p scimbridge.DesiredProfile
	// checked says email and err are known (always, but for
	// NormalizeProfile, whose stored side is rarely stored again).
	checked bool
	email   string
	err     error
}

// Normalize returns the canonical form of d used on both sides of a diff.
//
// Every attribute round-trips exactly, so Normalize changes nothing a client
// could tell apart: strings are kept as sent (no trimming, no case folding),
// Primary stays nil, false or true as sent, and email order is kept. It only
// canonicalises spellings of "nothing": an email entry without a value is
// dropped (null, "" and absent are the same), as are a phone number without
// a value and an address without any address part, and an empty list
// becomes nil. The result never shares memory with d. It also checks, once, that d
// can be stored (Validate) and derives its profile email (ProfileEmail):
// see Check.
func Normalize(d scimbridge.DesiredProfile) Desired {
	n := Desired{p: d, checked: true}
	n.p.Emails = normalizeEmails(d.Emails)
	n.p.PhoneNumbers = normalizePhones(d.PhoneNumbers)
	n.p.Addresses = normalizeAddresses(d.Addresses)
	n.email, n.err = checkDesired(n.p)
	return n
}

// NormalizeProfile returns the desired form of a stored profile, normalised
// as Normalize does, so stored and desired compare like for like.
func NormalizeProfile(p scimbridge.Profile) Desired {
	d := scimbridge.DesiredProfile{
		Attributes: p.Attributes,
		Active:     p.Active(),
		ExternalID: p.ExternalID,
		GoogleID:   p.GoogleID,
	}
	d.Emails = normalizeEmails(d.Emails)
	d.PhoneNumbers = normalizePhones(d.PhoneNumbers)
	d.Addresses = normalizeAddresses(d.Addresses)
	return Desired{p: d}
}

// Profile returns the normal form. Its emails are shared with d: read
// them only.
func (d Desired) Profile() scimbridge.DesiredProfile { return d.p }

// UserName returns the desired userName.
func (d Desired) UserName() string { return d.p.UserName }

// GoogleID returns the desired Google id.
func (d Desired) GoogleID() string { return d.p.GoogleID }

// Active reports whether the desired profile is active.
func (d Desired) Active() bool { return d.p.Active }

// WithActive returns d with its active flag set to active; it stays
// normal.
func (d Desired) WithActive(active bool) Desired {
	d.p.Active = active
	return d
}

// WithGoogleID returns d with its Google id set to id (a stored one, which
// the store already accepted); it stays normal.
func (d Desired) WithGoogleID(id string) Desired {
	d.p.GoogleID = id
	return d
}

// Check returns the profile email of d, or why d cannot be stored (see
// Validate and ProfileEmail).
func (d Desired) Check() (email string, err error) {
	if d.checked {
		return d.email, d.err
	}
	return checkDesired(d.p)
}

// MarshalJSON encodes the normal form (a held plan, an event's request
// body).
func (d Desired) MarshalJSON() ([]byte, error) { return json.Marshal(d.p) }

// UnmarshalJSON decodes a desired profile and normalises it: desired state
// read back (a held plan) enters here.
func (d *Desired) UnmarshalJSON(b []byte) error {
	var p scimbridge.DesiredProfile
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = Normalize(p)
	return nil
}

// normalizeEmails copies emails, dropping entries without a value; it
// returns nil when none is left.
func normalizeEmails(emails []scimbridge.Email) []scimbridge.Email {
	var out []scimbridge.Email
	for _, e := range emails {
		if e.Value == "" {
			continue
		}
		if e.Primary != nil {
			v := *e.Primary
			e.Primary = &v
		}
		out = append(out, e)
	}
	return out
}

// Validate checks what every stored profile needs: a userName, no string
// containing U+0000 (which PostgreSQL cannot store) and every value within
// scimbridge.CheckLimits. Failures are EINVALID with scimType invalidValue.
func Validate(d scimbridge.DesiredProfile) error {
	if d.UserName == "" {
		return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "userName is required")
	}
	for _, f := range scalarFields(&d) {
		if strings.ContainsRune(f.value, 0) {
			return nulError(f.name)
		}
	}
	for _, e := range d.Emails {
		if strings.ContainsRune(e.Value, 0) || strings.ContainsRune(e.Type, 0) || strings.ContainsRune(e.Display, 0) {
			return nulError("emails")
		}
	}
	if name := listNUL(&d); name != "" {
		return nulError(name)
	}
	return scimbridge.CheckLimits(d)
}

func nulError(field string) error {
	return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "%s must not contain a NUL character", field)
}

// ProfileEmail derives the profile email from a: the primary, else first
// work, else first entry of emails; else userName when it is an email
// address; else EINVALID with scimType invalidValue.
func ProfileEmail(a scimbridge.Attributes) (string, error) {
	if e := a.PrimaryEmail(); e != "" {
		return e, nil
	}
	if isAddress(a.UserName) {
		return a.UserName, nil
	}
	return "", scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue",
		"an email is required: emails has no value and userName is not an email address")
}

// isAddress reports whether s is exactly one bare address (no display name,
// no surrounding spaces).
func isAddress(s string) bool {
	if s == "" {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}
