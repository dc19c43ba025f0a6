package reconcile

import (
	"net/mail"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// Normalize returns the canonical form of d used on both sides of a diff.
//
// Every attribute round-trips exactly, so Normalize changes nothing a client
// could tell apart: strings are kept as sent (no trimming, no case folding),
// Primary stays nil, false or true as sent, and email order is kept. It only
// canonicalises spellings of "nothing": an email entry without a value is
// dropped (null, "" and absent are the same) and an empty emails list becomes
// nil. The result never shares memory with d.
func Normalize(d scimbridge.DesiredProfile) scimbridge.DesiredProfile {
	d.Emails = normalizeEmails(d.Emails)
	return d
}

// NormalizeProfile returns the desired form of a stored profile, normalised
// as Normalize does, so stored and desired compare like for like.
func NormalizeProfile(p scimbridge.Profile) scimbridge.DesiredProfile {
	return Normalize(scimbridge.DesiredProfile{
		Attributes: p.Attributes,
		Active:     p.Active(),
		ExternalID: p.ExternalID,
		GoogleID:   p.GoogleID,
	})
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
