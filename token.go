package scimbridge

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"math/big"
	"strings"
)

const (
	scimTokenPrefix  = "scb_"
	adminTokenPrefix = "scba_"
	// OperatorTokenPrefix starts operator tokens, which act on every
	// organization.
	OperatorTokenPrefix = "scbo_"
	tokenSecretLen      = 43 // base62 characters carrying 32 random bytes
	base62              = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// NewSCIMToken returns a fresh SCIM bearer token for the organization,
// scb_<slug>_<43 base62 characters> from 32 random bytes, and its SHA-256.
// The token is shown once; only the hash is stored.
func NewSCIMToken(slug string) (token string, hash []byte) {
	token = scimTokenPrefix + slug + "_" + randomBase62()
	return token, HashToken(token)
}

// NewAdminToken returns a fresh admin token (scba_<43 base62>) and its hash.
func NewAdminToken() (token string, hash []byte) {
	token = adminTokenPrefix + randomBase62()
	return token, HashToken(token)
}

// NewOperatorToken returns a fresh operator token (scbo_<43 base62>) and
// its hash.
func NewOperatorToken() (token string, hash []byte) {
	token = OperatorTokenPrefix + randomBase62()
	return token, HashToken(token)
}

// HashToken is the SHA-256 of a token, as stored.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// TokenMatches compares token's hash with a stored hash in constant time.
func TokenMatches(token string, stored []byte) bool {
	return subtle.ConstantTimeCompare(HashToken(token), stored) == 1
}

// SCIMTokenSlug returns the organization slug a SCIM token names, and false
// when the token is not of the scb_<slug>_<secret> form.
func SCIMTokenSlug(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, scimTokenPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return "", false
	}
	slug, secret := rest[:i], rest[i+1:]
	if !ValidSlug(slug) || len(secret) != tokenSecretLen {
		return "", false
	}
	return slug, true
}

// SCIMTokenPrefixSlug returns the organization slug a token's scb_<slug>_
// prefix names, whatever follows it, and false when the token has no such
// prefix. It attributes refused tokens (a secret one character short is
// still the organization's problem); authentication uses SCIMTokenSlug.
func SCIMTokenPrefixSlug(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, scimTokenPrefix)
	if !ok {
		return "", false
	}
	slug, _, ok := strings.Cut(rest, "_") // a slug has no '_'
	if !ok || !ValidSlug(slug) {
		return "", false
	}
	return slug, true
}

// randomBase62 encodes 32 random bytes as exactly 43 base62 characters.
func randomBase62() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on Linux
	}
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, tokenSecretLen)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := tokenSecretLen - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
