package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// hashVersion prefixes the canonical encoding; changing the encoding means
// changing it, which makes every stored hash miss once (a full diff run).
const hashVersion = "scimbridge.desired.v1"

// Hash returns the hex SHA-256 of a canonical encoding of d: every
// attribute by SCIM path, length-prefixed, in a fixed order, with emails
// sorted so their order does not matter. It is stable across runs and
// processes. Email case does matter, so a hash that is unchanged implies
// DiffWith(DiffOptions{IgnoreEmailOrder: true}, ...) reports nothing: the
// bridge can skip loading, diffing and writing such a profile.
func Hash(nd Desired) string {
	d := &nd.p
	// The encoding is built in one buffer (on the stack for a usual
	// profile) and hashed at once: a bridge run hashes every listed user.
	var stack [1024]byte
	b := stack[:0]
	put := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	put(hashVersion)
	for _, f := range scalarFields(d) {
		put(f.name)
		put(f.value)
	}
	put("active")
	put(strconv.FormatBool(d.Active))
	keys := emailKeys(DiffOptions{}, d.Emails)
	slices.Sort(keys)
	put("emails")
	put(strconv.Itoa(len(keys)))
	for _, k := range keys {
		put(k)
	}
	// Only when present, so the hash of a profile without them is what it
	// was before they were kept: an upgrade does not rewrite every profile.
	if len(d.PhoneNumbers) > 0 {
		put("phoneNumbers")
		put(renderList(d.PhoneNumbers))
	}
	if len(d.Addresses) > 0 {
		put("addresses")
		put(renderList(d.Addresses))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
