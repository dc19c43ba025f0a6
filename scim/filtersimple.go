package scim

import (
	"unicode/utf8"

	"github.com/scimbridge/scimbridge"
)

// parseSimple parses the filter identity providers send most, one
// comparison of a plain attribute path with a string that has no escapes
// (userName eq "bjensen@example.com"), without the grammar library, which
// costs tens of microseconds a filter. It accepts exactly what the library
// would take in that shape and builds what compare would: ok is false for
// anything else, which goes to the library. s is trimmed, valid UTF-8.
func parseSimple(s string) (scimbridge.CompareFilter, bool) {
	i := attrPathEnd(s)
	if i == 0 {
		return scimbridge.CompareFilter{}, false
	}
	attr := s[:i]
	j := skipSpaces(s, i)
	if j == i || j+2 > len(s) {
		return scimbridge.CompareFilter{}, false
	}
	op, ok := simpleOps[[2]byte{lower(s[j]), lower(s[j+1])}]
	if !ok {
		return scimbridge.CompareFilter{}, false
	}
	k := skipSpaces(s, j+2)
	if k == j+2 || k >= len(s) || s[k] != '"' || s[len(s)-1] != '"' || len(s)-k < 2 {
		return scimbridge.CompareFilter{}, false
	}
	value := s[k+1 : len(s)-1]
	for n := 0; n < len(value); {
		r, size := utf8.DecodeRuneInString(value[n:])
		// The grammar's unescaped characters: no control character, no
		// quote, no backslash (an escape goes to the library).
		if r < 0x20 || r == '"' || r == '\\' || r == utf8.RuneError && size == 1 {
			return scimbridge.CompareFilter{}, false
		}
		n += size
	}
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: value}, true
}

// simpleOps are the comparison operators that take a string, by their
// lower-case spelling.
var simpleOps = map[[2]byte]scimbridge.FilterOp{
	{'e', 'q'}: scimbridge.OpEq, {'n', 'e'}: scimbridge.OpNe, {'c', 'o'}: scimbridge.OpCo,
	{'s', 'w'}: scimbridge.OpSw, {'e', 'w'}: scimbridge.OpEw, {'g', 't'}: scimbridge.OpGt,
	{'g', 'e'}: scimbridge.OpGe, {'l', 't'}: scimbridge.OpLt, {'l', 'e'}: scimbridge.OpLe,
}

// simpleAttrPath splits s when it is exactly a plain attribute path, name
// or name.sub (ALPHA *(ALPHA / DIGIT / "-" / "_") each), as the grammar
// library would; ok is false for anything else (URN prefixes, "$ref"),
// which goes to the library.
func simpleAttrPath(s string) (name, sub string, ok bool) {
	i := nameEnd(s, 0)
	if i == 0 {
		return "", "", false
	}
	if i == len(s) {
		return s, "", true
	}
	if s[i] != '.' {
		return "", "", false
	}
	j := nameEnd(s, i+1)
	if j == i+1 || j != len(s) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// attrPathEnd returns the length of the attribute path ALPHA *(ALPHA /
// DIGIT / "-" / "_"), optionally followed by "." and another such name,
// that starts s; 0 when s does not start with one.
func attrPathEnd(s string) int {
	i := nameEnd(s, 0)
	if i == 0 {
		return 0
	}
	if i < len(s) && s[i] == '.' {
		j := nameEnd(s, i+1)
		if j == i+1 {
			return 0
		}
		i = j
	}
	if i < len(s) && s[i] != ' ' {
		return 0 // a URN prefix, a bracket or another character
	}
	return i
}

// nameEnd returns the end of the name starting at s[i], or i when there is
// none.
func nameEnd(s string, i int) int {
	if i >= len(s) || !isAlpha(s[i]) {
		return i
	}
	j := i + 1
	for j < len(s) && (isAlpha(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-' || s[j] == '_') {
		j++
	}
	return j
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
