// Package textkey computes the case-insensitive comparison keys stored in the
// key columns that carry the unique indexes (userName, email). Computing them
// in Go makes SQLite and PostgreSQL agree byte for byte.
package textkey

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Key returns s in Unicode NFC, lower-cased, then NFC again (lower-casing can
// denormalise). The empty string stays empty.
func Key(s string) string {
	if s == "" {
		return ""
	}
	return norm.NFC.String(strings.ToLower(norm.NFC.String(s)))
}
