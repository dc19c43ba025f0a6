package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// emailFromFilter builds the entry a filter of equalities describes:
// type eq "work" and primary eq true -> {type: work, primary: true}.
func emailFromFilter(f scimbridge.Filter) (scimbridge.Email, bool) {
	var e scimbridge.Email
	set := map[string]bool{}
	var walk func(scimbridge.Filter) bool
	walk = func(f scimbridge.Filter) bool {
		switch f := f.(type) {
		case scimbridge.AndFilter:
			return walk(f.Left) && walk(f.Right)
		case scimbridge.CompareFilter:
			attr := lowerASCII(f.Attr)
			if f.Op != scimbridge.OpEq || set[attr] {
				return false
			}
			set[attr] = true
			if attr == "primary" {
				b, ok := f.Value.(bool)
				e.Primary = &b
				return ok
			}
			s, ok := f.Value.(string)
			switch attr {
			case "value":
				e.Value = s
			case "type":
				e.Type = s
			case "display":
				e.Display = s
			default:
				return false
			}
			return ok
		}
		return false
	}
	return e, walk(f)
}

// evalEmail evaluates a value filter against one email. Strings compare
// case-insensitively (emails are not caseExact); an unassigned primary is
// false (RFC 7643 §2.4).
func evalEmail(f scimbridge.Filter, e scimbridge.Email) (bool, error) {
	switch f := f.(type) {
	case scimbridge.AndFilter:
		l, err := evalEmail(f.Left, e)
		if err != nil {
			return false, err
		}
		r, err := evalEmail(f.Right, e)
		return l && r, err
	case scimbridge.OrFilter:
		l, err := evalEmail(f.Left, e)
		if err != nil {
			return false, err
		}
		r, err := evalEmail(f.Right, e)
		return l || r, err
	case scimbridge.NotFilter:
		m, err := evalEmail(f.Filter, e)
		return !m, err
	case scimbridge.CompareFilter:
		switch attr := lowerASCII(f.Attr); attr {
		case "value":
			return compareString(e.Value, f)
		case "type":
			return compareString(e.Type, f)
		case "display":
			return compareString(e.Display, f)
		case "primary":
			return compareBool(e.Primary, f)
		}
		return false, invalid(scimInvalidPath, "emails has no sub-attribute %q", f.Attr)
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
