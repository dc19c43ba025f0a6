package reconcile

import (
	"encoding/json"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// normalizePhones copies phoneNumbers, dropping entries without a value; it
// returns nil when none is left.
func normalizePhones(in []scimbridge.PhoneNumber) []scimbridge.PhoneNumber {
	var out []scimbridge.PhoneNumber
	for _, p := range in {
		if p.Value == "" {
			continue
		}
		p.Primary = copyBool(p.Primary)
		out = append(out, p)
	}
	return out
}

// normalizeAddresses copies addresses, dropping entries that carry no
// address (only type and primary); it returns nil when none is left.
func normalizeAddresses(in []scimbridge.Address) []scimbridge.Address {
	var out []scimbridge.Address
	for _, a := range in {
		if a.Empty() {
			continue
		}
		a.Primary = copyBool(a.Primary)
		out = append(out, a)
	}
	return out
}

func copyBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// renderList renders phoneNumbers or addresses for diffs, reports and the
// hash: JSON, in order, "" when empty. Both are stored as sent, so a change
// of order or case is a change.
func renderList[T any](list []T) string {
	if len(list) == 0 {
		return ""
	}
	// The element types hold only strings and *bool: Marshal cannot fail.
	b, _ := json.Marshal(list)
	return string(b)
}

// listNUL names the first phoneNumbers or addresses value holding U+0000,
// or "".
func listNUL(d *scimbridge.DesiredProfile) string {
	for _, p := range d.PhoneNumbers {
		if strings.ContainsRune(p.Value+p.Type+p.Display, 0) {
			return "phoneNumbers"
		}
	}
	for _, a := range d.Addresses {
		if strings.ContainsRune(a.Formatted+a.StreetAddress+a.Locality+a.Region+a.PostalCode+a.Country+a.Type, 0) {
			return "addresses"
		}
	}
	return ""
}
