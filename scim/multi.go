package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// complexList describes a multi-valued complex attribute kept as a list of
// T (phoneNumbers, addresses): its string sub-attributes, its primary flag,
// and when an entry carries nothing and is dropped. Emails have their own
// code (emails.go) because the profile email is derived from them.
type complexList[T any] struct {
	name    string
	subs    []string // string sub-attributes, canonical spelling
	field   func(*T, string) *string
	primary func(*T) **bool
	empty   func(T) bool
	list    func(*scimbridge.DesiredProfile) *[]T
}

var phoneList = &complexList[scimbridge.PhoneNumber]{
	name: "phoneNumbers",
	subs: []string{"value", "type", "display"},
	field: func(p *scimbridge.PhoneNumber, sub string) *string {
		switch sub {
		case "value":
			return &p.Value
		case "type":
			return &p.Type
		case "display":
			return &p.Display
		}
		return nil
	},
	primary: func(p *scimbridge.PhoneNumber) **bool { return &p.Primary },
	empty:   func(p scimbridge.PhoneNumber) bool { return p.Value == "" },
	list:    func(d *scimbridge.DesiredProfile) *[]scimbridge.PhoneNumber { return &d.PhoneNumbers },
}

var addressList = &complexList[scimbridge.Address]{
	name: "addresses",
	subs: []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"},
	field: func(a *scimbridge.Address, sub string) *string {
		switch sub {
		case "formatted":
			return &a.Formatted
		case "streetAddress":
			return &a.StreetAddress
		case "locality":
			return &a.Locality
		case "region":
			return &a.Region
		case "postalCode":
			return &a.PostalCode
		case "country":
			return &a.Country
		case "type":
			return &a.Type
		}
		return nil
	},
	primary: func(a *scimbridge.Address) **bool { return &a.Primary },
	empty:   scimbridge.Address.Empty,
	list:    func(d *scimbridge.DesiredProfile) *[]scimbridge.Address { return &d.Addresses },
}

// subDefs are the sub-attributes for the schema catalogue.
func (c *complexList[T]) subDefs() []subDef {
	out := make([]subDef, 0, len(c.subs)+1)
	for _, s := range c.subs {
		out = append(out, subDef{name: s})
	}
	return append(out, subDef{name: "primary"})
}

// canonical returns the canonical spelling of sub-attribute name, or "".
func (c *complexList[T]) canonical(name string) string {
	low := lowerASCII(name)
	if low == "primary" {
		return "primary"
	}
	for _, s := range c.subs {
		if lowerASCII(s) == low {
			return s
		}
	}
	return ""
}

// itemPatch is one entry as sent, with the sub-attributes it carries.
type itemPatch[T any] struct {
	v   T
	has map[string]bool
}

func (c *complexList[T]) mergeInto(p itemPatch[T], dst *T) {
	for sub := range p.has {
		if sub == "primary" {
			*c.primary(dst) = *c.primary(&p.v)
			continue
		}
		*c.field(dst, sub) = *c.field(&p.v, sub)
	}
}

func (c *complexList[T]) isPrimary(v *T) bool {
	p := *c.primary(v)
	return p != nil && *p
}

// setSub sets one sub-attribute of p from v.
func (c *complexList[T]) setSub(p *itemPatch[T], sub string, v jval) error {
	if p.has[sub] {
		return invalid(scimInvalidValue, "%s.%s is given more than once", c.name, sub)
	}
	p.has[sub] = true
	if sub == "primary" {
		if v.unassigned() {
			return nil
		}
		b, ok := parseBool(v)
		if !ok {
			return invalid(scimInvalidValue, "%s.primary must be true or false, not %s", c.name, v.typeName())
		}
		*c.primary(&p.v) = &b
		return nil
	}
	if v.unassigned() {
		return nil
	}
	if v.kind != jString {
		return invalid(scimInvalidValue, "%s.%s must be a string, not %s", c.name, sub, v.typeName())
	}
	*c.field(&p.v, sub) = v.s
	return nil
}

func (c *complexList[T]) parseItem(a *applier, v jval) (itemPatch[T], error) {
	p := itemPatch[T]{has: map[string]bool{}}
	if v.kind != jObject {
		return p, invalid(scimInvalidValue, "an entry of %s must be an object, not %s", c.name, v.typeName())
	}
	for _, m := range v.obj {
		sub := c.canonical(m.key)
		if sub == "" {
			return p, invalid(a.unknownType(), "attribute \"%s.%s\" is unknown", c.name, m.key)
		}
		if err := c.setSub(&p, sub, m.val); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseList parses an array of entries, a lone object where a list
// belongs, or nothing.
func (c *complexList[T]) parseList(a *applier, v jval) ([]itemPatch[T], error) {
	var elems []jval
	switch {
	case v.unassigned():
		return nil, nil
	case v.kind == jObject:
		elems = []jval{v}
	case v.kind == jArray:
		elems = v.arr
	default:
		return nil, invalid(scimInvalidValue, "%s must be an array of objects, not %s", c.name, v.typeName())
	}
	ps := make([]itemPatch[T], 0, len(elems))
	primaries := 0
	for _, ev := range elems {
		p, err := c.parseItem(a, ev)
		if err != nil {
			return nil, err
		}
		if c.isPrimary(&p.v) {
			primaries++
		}
		ps = append(ps, p)
	}
	if primaries > 1 {
		return nil, invalid(scimInvalidValue, "at most one entry of %s may be primary", c.name)
	}
	return ps, nil
}

// apply applies op to the attribute, attr.sub, attr[filter] or
// attr[filter].sub, as applyEmails does for emails: an entry that ends up
// empty is dropped, and add or replace of attr[filter].sub creates the
// entry the filter's equalities describe when none matches (Entra ID
// patches phoneNumbers[type eq "work"].value and
// addresses[type eq "work"].locality).
func (c *complexList[T]) apply(a *applier, op opKind, t target, v jval) error {
	list := c.list(&a.d)
	switch {
	case t.filter == nil && t.sub == nil:
		return c.applyList(a, op, v)
	case t.filter == nil:
		if op != opRemove {
			return invalid(scimInvalidPath, "%q needs a value filter, e.g. %s[type eq \"work\"].%s", t.path, c.name, t.sub.name)
		}
		for i := range *list {
			c.clearSub(&(*list)[i], t.sub.name)
		}
		c.dropEmpty(list)
		return nil
	}
	var matches []int
	for i := range *list {
		ok, err := c.eval(t.filter, &(*list)[i])
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
				var zero T
				(*list)[i] = zero
			} else {
				c.clearSub(&(*list)[i], t.sub.name)
			}
		}
		c.dropEmpty(list)
		return nil
	}
	var p itemPatch[T]
	if t.sub == nil {
		if v.unassigned() {
			for _, i := range matches {
				var zero T
				(*list)[i] = zero
			}
			c.dropEmpty(list)
			return nil
		}
		var err error
		if p, err = c.parseItem(a, v); err != nil {
			return err
		}
	} else {
		p = itemPatch[T]{has: map[string]bool{}}
		if err := c.setSub(&p, t.sub.name, v); err != nil {
			return err
		}
	}
	if len(matches) == 0 {
		if t.sub == nil && op == opReplace {
			return invalid(scimNoTarget, "no entry of %s matches %q", c.name, t.path)
		}
		if t.sub != nil && v.unassigned() {
			return nil
		}
		item, ok := c.fromFilter(t.filter)
		if !ok {
			return invalid(scimNoTarget, "no entry of %s matches %q, and its filter does not describe one to create", c.name, t.path)
		}
		*list = append(*list, item)
		matches = []int{len(*list) - 1}
	}
	for _, i := range matches {
		c.mergeInto(p, &(*list)[i])
	}
	if c.isPrimary(&p.v) && p.has["primary"] {
		if len(matches) > 1 {
			return invalid(scimInvalidValue, "%q matches %d entries; only one may be primary", t.path, len(matches))
		}
		c.promote(list, matches[0])
	}
	c.dropEmpty(list)
	return nil
}

func (c *complexList[T]) applyList(a *applier, op opKind, v jval) error {
	list := c.list(&a.d)
	ps, err := c.parseList(a, v)
	if err != nil {
		return err
	}
	switch op {
	case opRemove:
		if v.unassigned() {
			*list = nil
			return nil
		}
		keep := make([]T, 0, len(*list))
		for i := range *list {
			if !c.matchesAny(ps, &(*list)[i]) {
				keep = append(keep, (*list)[i])
			}
		}
		*list = keep
	case opReplace:
		*list = nil
		for _, p := range ps {
			*list = append(*list, p.v)
		}
	case opAdd:
		for _, p := range ps {
			i := c.find(*list, &p.v)
			if i < 0 {
				*list = append(*list, p.v)
				i = len(*list) - 1
			} else if p.has["primary"] {
				// Already there: RFC 7644 §3.5.2.1 makes no change to
				// the value; primary, when sent, is taken.
				*c.primary(&(*list)[i]) = *c.primary(&p.v)
			}
			if c.isPrimary(&p.v) {
				c.promote(list, i)
			}
		}
	}
	c.dropEmpty(list)
	return nil
}

// find returns the entry equal to v on every string sub-attribute
// (compared case-insensitively), or -1.
func (c *complexList[T]) find(list []T, v *T) int {
	for i := range list {
		same := true
		for _, s := range c.subs {
			if !strings.EqualFold(*c.field(&list[i], s), *c.field(v, s)) {
				same = false
				break
			}
		}
		if same {
			return i
		}
	}
	return -1
}

// matchesAny reports whether e matches one of ps on every sub-attribute
// that entry gives (a remove with a value).
func (c *complexList[T]) matchesAny(ps []itemPatch[T], e *T) bool {
	for i := range ps {
		p := &ps[i]
		if len(p.has) == 0 {
			continue
		}
		match := true
		for sub := range p.has {
			if sub == "primary" {
				match = match && c.isPrimary(&p.v) == c.isPrimary(e)
			} else {
				match = match && strings.EqualFold(*c.field(&p.v, sub), *c.field(e, sub))
			}
		}
		if match {
			return true
		}
	}
	return false
}

func (c *complexList[T]) promote(list *[]T, i int) {
	for j := range *list {
		if j != i && c.isPrimary(&(*list)[j]) {
			f := false
			*c.primary(&(*list)[j]) = &f
		}
	}
}

func (c *complexList[T]) clearSub(v *T, sub string) {
	if sub == "primary" {
		*c.primary(v) = nil
		return
	}
	*c.field(v, sub) = ""
}

func (c *complexList[T]) dropEmpty(list *[]T) {
	keep := (*list)[:0]
	for _, v := range *list {
		if !c.empty(v) {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		keep = nil
	}
	*list = keep
}

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
// case-insensitively, as for emails; an unassigned primary is false.
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

// cloneList copies a list so that a PATCH never writes into the caller's
// entries.
func cloneList[T any](in []T, primary func(*T) **bool) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	copy(out, in)
	for i := range out {
		if p := primary(&out[i]); *p != nil {
			b := **p
			*p = &b
		}
	}
	return out
}
