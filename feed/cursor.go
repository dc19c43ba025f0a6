package feed

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// cursorPrefix starts every cursor, so a future encoding can be told apart.
const cursorPrefix = "c1_"

// EncodeCursor is the opaque cursor of a position.
func EncodeCursor(p scimbridge.ChangePosition) string {
	raw := strconv.FormatInt(p.Tx, 10) + "." + strconv.FormatInt(p.Seq, 10)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a cursor EncodeCursor made; anything else is
// EINVALID.
func DecodeCursor(s string) (scimbridge.ChangePosition, error) {
	bad := scimbridge.Errorf(scimbridge.EINVALID, "malformed cursor %q: use a cursor a changes response returned", truncate(s))
	rest, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok || len(rest) > 64 {
		return scimbridge.ChangePosition{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return scimbridge.ChangePosition{}, bad
	}
	txs, seqs, ok := strings.Cut(string(raw), ".")
	if !ok {
		return scimbridge.ChangePosition{}, bad
	}
	tx, err1 := strconv.ParseInt(txs, 10, 64)
	seq, err2 := strconv.ParseInt(seqs, 10, 64)
	p := scimbridge.ChangePosition{Tx: tx, Seq: seq}
	// Only the canonical form is a cursor: no signs, no leading zeros.
	if err1 != nil || err2 != nil || tx < 0 || seq < 0 || EncodeCursor(p) != s {
		return scimbridge.ChangePosition{}, bad
	}
	return p, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
