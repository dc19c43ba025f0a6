package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// fromFilter builds the entry a filter of equalities describes.
func (c *complexList[T]) fromFilter(f scimbridge.Filter) (T, bool) {
	var v T
	set := map[string]bool{}
	var walk func(scimbridge.Filter) bool
	walk = func(f scimbridge.Filter) bool {
		switch f := f.(type) {
		case scimbridge.AndFilter:
			return walk(f.Left) && walk(f.Right)
		case scimbridge.CompareFilter:
			sub := c.canonical(f.Attr)
			if sub == "" || f.Op != scimbridge.OpEq || set[sub] {
				return false
			}
			set[sub] = true
			if sub == "primary" {
				b, ok := f.Value.(bool)
				*c.primary(&v) = &b
				return ok
			}
			s, ok := f.Value.(string)
			*c.field(&v, sub) = s
			return ok
		}
		return false
	}
	return v, walk(f)
}

// eval evaluates a value filter against one entry. Strings compare
// case-insensitively (none of these attributes is caseExact); an
// unassigned primary is false (RFC 7643 §2.4).
func (c *complexList[T]) eval(f scimbridge.Filter, v *T) (bool, error) {
	switch f := f.(type) {
	case scimbridge.AndFilter:
		l, err := c.eval(f.Left, v)
		if err != nil {
			return false, err
		}
		r, err := c.eval(f.Right, v)
		return l && r, err
	case scimbridge.OrFilter:
		l, err := c.eval(f.Left, v)
		if err != nil {
			return false, err
		}
		r, err := c.eval(f.Right, v)
		return l || r, err
	case scimbridge.NotFilter:
		m, err := c.eval(f.Filter, v)
		return !m, err
	case scimbridge.CompareFilter:
		switch sub := c.canonical(f.Attr); sub {
		case "":
			return false, invalid(scimInvalidPath, "%s has no sub-attribute %q", c.name, f.Attr)
		case "primary":
			return compareBool(*c.primary(v), f)
		default:
			return compareString(*c.field(v, sub), f)
		}
	}
	return false, invalid(scimInvalidPath, "value filters cannot be nested")
}

func compareString(field string, f scimbridge.CompareFilter) (bool, error) {
	if f.Op == scimbridge.OpPr {
		return field != "", nil
	}
	var s string
	switch v := f.Value.(type) {
	case nil:
	case string:
		s = v
	default:
		return false, invalid(scimInvalidPath, "emails.%s compares with strings", f.Attr)
	}
	lf, ls := strings.ToLower(field), strings.ToLower(s)
	switch f.Op {
	case scimbridge.OpEq:
		return lf == ls, nil
	case scimbridge.OpNe:
		return lf != ls, nil
	}
	if field == "" {
		return false, nil
	}
	switch f.Op {
	case scimbridge.OpCo:
		return strings.Contains(lf, ls), nil
	case scimbridge.OpSw:
		return strings.HasPrefix(lf, ls), nil
	case scimbridge.OpEw:
		return strings.HasSuffix(lf, ls), nil
	case scimbridge.OpGt:
		return lf > ls, nil
	case scimbridge.OpGe:
		return lf >= ls, nil
	case scimbridge.OpLt:
		return lf < ls, nil
	case scimbridge.OpLe:
		return lf <= ls, nil
	}
	return false, invalid(scimInvalidPath, "operator %s is not supported", f.Op)
}

func compareBool(field *bool, f scimbridge.CompareFilter) (bool, error) {
	if f.Op == scimbridge.OpPr {
		return field != nil, nil
	}
	b, ok := f.Value.(bool)
	if !ok {
		return false, invalid(scimInvalidPath, "emails.primary compares with true or false")
	}
	have := field != nil && *field
	switch f.Op {
	case scimbridge.OpEq:
		return have == b, nil
	case scimbridge.OpNe:
		return have != b, nil
	}
	return false, invalid(scimInvalidPath, "emails.primary takes only eq, ne and pr")
}
