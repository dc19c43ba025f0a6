// Package webhook delivers an organization's change records to its webhook
// endpoints: signed as the Standard Webhooks specification says, in order
// and at least once per endpoint, one delivery in flight per endpoint on
// one replica at a time (a lease), retried with exponential backoff that
// honours Retry-After, over connections whose every address is checked
// when dialing (PRODUCT.md, "Directory API: changes feed and webhooks").
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret as shown to its owner.
const SecretPrefix = "whsec_"

// secretSize is the random bytes of a new secret (the specification asks
// for 24 to 64).
const secretSize = 32

// NewSecret returns a random signing secret: "whsec_" and the standard
// base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ErrBadSecret says a secret is not "whsec_" and base64 of 24 to 64 bytes.
var ErrBadSecret = errors.New("a webhook secret is whsec_ followed by the base64 of 24 to 64 bytes")

// SecretKey returns the HMAC key of a secret: the bytes its base64 after
// the prefix encodes.
func SecretKey(secret string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(b) < 24 || len(b) > 64 {
		return nil, ErrBadSecret
	}
	return b, nil
}

// Sign returns the "v1," signature of a message: the standard base64 of
// HMAC-SHA256 under key of "id.timestamp.body".
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignatureHeader is the webhook-signature value: one signature per key,
// space-separated (the current secret first, then during a rotation the
// previous one).
func SignatureHeader(keys [][]byte, id string, timestamp time.Time, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, timestamp, body)
	}
	return strings.Join(sigs, " ")
}
