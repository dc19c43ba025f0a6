package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// emailPatch is one email object as sent, with the sub-attributes it
// carries.
type emailPatch struct {
	e                                         scimbridge.Email
	hasValue, hasType, hasDisplay, hasPrimary bool
}

func (p emailPatch) mergeInto(e *scimbridge.Email) {
	if p.hasValue {
		e.Value = p.e.Value
	}
	if p.hasType {
		e.Type = p.e.Type
	}
	if p.hasDisplay {
		e.Display = p.e.Display
	}
	if p.hasPrimary {
		e.Primary = p.e.Primary
	}
}

func isPrimary(e scimbridge.Email) bool { return e.Primary != nil && *e.Primary }

func (a *applier) parseEmail(v jval) (emailPatch, error) {
	var p emailPatch
	if v.kind != jObject {
		return p, invalid(scimInvalidValue, "an email must be an object, not %s", v.typeName())
	}
	for _, m := range v.obj {
		sub := lowerASCII(m.key)
		var dup bool
		var err error
		switch sub {
		case "value":
			dup, p.hasValue = p.hasValue, true
			p.e.Value, err = emailString(m.val, sub)
		case "type":
			dup, p.hasType = p.hasType, true
			p.e.Type, err = emailString(m.val, sub)
		case "display":
			dup, p.hasDisplay = p.hasDisplay, true
			p.e.Display, err = emailString(m.val, sub)
		case "primary":
			dup, p.hasPrimary = p.hasPrimary, true
			p.e.Primary, err = emailBool(m.val)
		default:
			return p, invalid(a.unknownType(), "attribute \"emails.%s\" is unknown", m.key)
		}
		if err != nil {
			return p, err
		}
		if dup {
			return p, invalid(scimInvalidValue, "emails.%s is given more than once", sub)
		}
	}
	return p, nil
}

func emailString(v jval, sub string) (string, error) {
	if v.unassigned() {
		return "", nil
	}
	if v.kind != jString {
		return "", invalid(scimInvalidValue, "emails.%s must be a string, not %s", sub, v.typeName())
	}
	return v.s, nil
}

func emailBool(v jval) (*bool, error) {
	if v.unassigned() {
		return nil, nil
	}
	b, ok := parseBool(v)
	if !ok {
		return nil, invalid(scimInvalidValue, "emails.primary must be true or false, not %s", v.typeName())
	}
	return &b, nil
}

// parseEmailList parses the value of "emails": an array of email objects,
// a lone object where a list belongs, or nothing.
func (a *applier) parseEmailList(v jval) ([]emailPatch, error) {
	var elems []jval
	switch {
	case v.unassigned():
		return nil, nil
	case v.kind == jObject:
		elems = []jval{v}
	case v.kind == jArray:
		elems = v.arr
	default:
		return nil, invalid(scimInvalidValue, "emails must be an array of objects, not %s", v.typeName())
	}
	ps := make([]emailPatch, 0, len(elems))
	for _, ev := range elems {
		p, err := a.parseEmail(ev)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// applyEmails applies op to emails, emails.sub, emails[filter] or
// emails[filter].sub. An email without a value is no email: entries whose
// value ends up unassigned are dropped.
func (a *applier) applyEmails(op opKind, t target, v jval) error {
	switch {
	case t.filter == nil && t.sub == nil:
		return a.applyEmailList(op, v)
	case t.filter == nil:
		if op != opRemove {
			return invalid(scimInvalidPath, "%q needs a value filter, e.g. emails[type eq \"work\"].%s", t.path, t.sub.name)
		}
		for i := range a.d.Emails {
			clearEmailSub(&a.d.Emails[i], t.sub.name)
		}
		a.dropValueless()
		return nil
	}

	var matches []int
	for i, e := range a.d.Emails {
		ok, err := evalEmail(t.filter, e)
		if err != nil {
			return prefixError(err, "path %q: ", t.path)
		}
		if ok {
			matches = append(matches, i)
		}
	}
	if op == opRemove {
		for _, i := range matches {
			if t.sub == nil {
				a.d.Emails[i].Value = ""
			} else {
				clearEmailSub(&a.d.Emails[i], t.sub.name)
			}
		}
		a.dropValueless() // no match: nothing to remove, not an error
		return nil
	}

	// add or replace: the whole matching entries, or one sub-attribute.
	var p emailPatch
	if t.sub == nil {
		if v.unassigned() {
			for _, i := range matches {
				a.d.Emails[i].Value = ""
			}
			a.dropValueless()
			return nil
		}
		var err error
		if p, err = a.parseEmail(v); err != nil {
			return err
		}
	} else {
		var err error
		if p, err = subPatch(t.sub.name, v); err != nil {
			return err
		}
	}
	if len(matches) == 0 {
		if t.sub == nil && op == opReplace {
			return invalid(scimNoTarget, "no email matches %q", t.path)
		}
		if t.sub != nil && v.unassigned() {
			return nil
		}
		e, ok := emailFromFilter(t.filter)
		if !ok {
			return invalid(scimNoTarget, "no email matches %q, and its filter does not describe one to create", t.path)
		}
		a.d.Emails = append(a.d.Emails, e)
		matches = []int{len(a.d.Emails) - 1}
	}
	for _, i := range matches {
		p.mergeInto(&a.d.Emails[i])
	}
	if p.hasPrimary && isPrimary(p.e) {
		if len(matches) > 1 {
			return invalid(scimInvalidValue, "%q matches %d emails; only one may be primary", t.path, len(matches))
		}
		a.promote(matches[0])
	}
	a.dropValueless()
	return nil
}

func subPatch(sub string, v jval) (emailPatch, error) {
	var p emailPatch
	var err error
	switch sub {
	case "value":
		p.hasValue = true
		p.e.Value, err = emailString(v, sub)
	case "type":
		p.hasType = true
		p.e.Type, err = emailString(v, sub)
	case "display":
		p.hasDisplay = true
		p.e.Display, err = emailString(v, sub)
	case "primary":
		p.hasPrimary = true
		p.e.Primary, err = emailBool(v)
	}
	return p, err
}

func (a *applier) applyEmailList(op opKind, v jval) error {
	switch op {
	case opRemove:
		if v.unassigned() {
			a.d.Emails = nil
			return nil
		}
		ps, err := a.parseEmailList(v)
		if err != nil {
			return err
		}
		keep := make([]scimbridge.Email, 0, len(a.d.Emails))
		for _, e := range a.d.Emails {
			if !matchesAny(ps, e) {
				keep = append(keep, e)
			}
		}
		a.d.Emails = keep
	case opReplace:
		ps, err := a.parseEmailList(v)
		if err != nil {
			return err
		}
		a.d.Emails = nil
		for _, p := range ps {
			if p.e.Value != "" {
				a.d.Emails = append(a.d.Emails, p.e)
			}
		}
	case opAdd:
		ps, err := a.parseEmailList(v)
		if err != nil {
			return err
		}
		primaries := 0
		for _, p := range ps {
			if isPrimary(p.e) {
				primaries++
			}
		}
		if primaries > 1 {
			return invalid(scimInvalidValue, "at most one email may be primary")
		}
		for _, p := range ps {
			if p.e.Value == "" {
				continue
			}
			i := a.findEmail(p.e)
			if i < 0 {
				a.d.Emails = append(a.d.Emails, p.e)
				i = len(a.d.Emails) - 1
			} else {
				// Already there: RFC 7644 §3.5.2.1 makes no change to the
				// value; display and primary, when sent, are taken.
				p.hasValue, p.hasType = false, false
				p.mergeInto(&a.d.Emails[i])
			}
			if isPrimary(p.e) {
				a.promote(i)
			}
		}
	}
	if len(a.d.Emails) == 0 {
		a.d.Emails = nil
	}
	return nil
}

// findEmail returns the entry with the same value and type (compared
// case-insensitively, as emails are not caseExact), or -1.
func (a *applier) findEmail(e scimbridge.Email) int {
	for i, x := range a.d.Emails {
		if strings.EqualFold(x.Value, e.Value) && strings.EqualFold(x.Type, e.Type) {
			return i
		}
	}
	return -1
}

// matchesAny reports whether e matches one of ps on every sub-attribute
// that entry gives (a remove with a value).
func matchesAny(ps []emailPatch, e scimbridge.Email) bool {
	for _, p := range ps {
		if p.hasValue && !strings.EqualFold(p.e.Value, e.Value) ||
			p.hasType && !strings.EqualFold(p.e.Type, e.Type) ||
			p.hasDisplay && p.e.Display != e.Display ||
			p.hasPrimary && isPrimary(p.e) != isPrimary(e) {
			continue
		}
		if p.hasValue || p.hasType || p.hasDisplay || p.hasPrimary {
			return true
		}
	}
	return false
}

// promote makes entry i the only primary one: RFC 7644 §3.5.2 sets primary
// to false on every other entry that had it set. Entries without primary
// keep none.
func (a *applier) promote(i int) {
	for j := range a.d.Emails {
		if j != i && isPrimary(a.d.Emails[j]) {
			f := false
			a.d.Emails[j].Primary = &f
		}
	}
}

func clearEmailSub(e *scimbridge.Email, sub string) {
	switch sub {
	case "value":
		e.Value = ""
	case "type":
		e.Type = ""
	case "display":
		e.Display = ""
	case "primary":
		e.Primary = nil
	}
}

func (a *applier) dropValueless() {
	keep := a.d.Emails[:0]
	for _, e := range a.d.Emails {
		if e.Value != "" {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		keep = nil
	}
	a.d.Emails = keep
}
