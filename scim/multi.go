package scim

import (
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// complexList describes a multi-valued complex attribute kept as a list of
// T (emails, phoneNumbers, addresses): its string sub-attributes, its
// primary flag, when an entry carries nothing and is dropped, and the few
// rules in which emails differ.
type complexList[T any] struct {
	name        string
	noun, nouns string   // one entry and several, in error messages
	subs        []string // string sub-attributes, canonical spelling
	// key are the sub-attributes that make an added entry one already
	// there (compared case-insensitively); nil means all of subs. The
	// others, when sent, are taken by the entry already there.
	key []string
	// exact are the sub-attributes a remove by value compares with case.
	exact   []string
	field   func(*T, string) *string
	primary func(*T) **bool
	empty   func(T) bool
	list    func(*scimbridge.DesiredProfile) *[]T
	// addSkipsEmpty makes an add ignore a sent entry that would be dropped,
	// primary flag included, instead of adding and then dropping it.
	addSkipsEmpty bool
	// primaryAddOnly checks "at most one sent entry is primary" on add
	// only; the attribute's result is checked once every operation is in
	// (applier.finish).
	primaryAddOnly bool
}

// emailList is "emails". An email without a value is no email: an entry
// whose value ends up unassigned is dropped. Emails are not caseExact, but
// a remove by value compares display with case.
var emailList = &complexList[scimbridge.Email]{
	name:  "emails",
	noun:  "email",
	nouns: "emails",
	subs:  []string{"value", "type", "display"},
	key:   []string{"value", "type"},
	exact: []string{"display"},
	field: func(e *scimbridge.Email, sub string) *string {
		switch sub {
		case "value":
			return &e.Value
		case "type":
			return &e.Type
		case "display":
			return &e.Display
		}
		return nil
	},
	primary:        func(e *scimbridge.Email) **bool { return &e.Primary },
	empty:          func(e scimbridge.Email) bool { return e.Value == "" },
	list:           func(d *scimbridge.DesiredProfile) *[]scimbridge.Email { return &d.Emails },
	addSkipsEmpty:  true,
	primaryAddOnly: true,
}

var phoneList = &complexList[scimbridge.PhoneNumber]{
	name:  "phoneNumbers",
	noun:  "entry of phoneNumbers",
	nouns: "entries",
	subs:  []string{"value", "type", "display"},
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
	name:  "addresses",
	noun:  "entry of addresses",
	nouns: "entries",
	subs:  []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"},
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
		return p, invalid(scimInvalidValue, "an %s must be an object, not %s", c.noun, v.typeName())
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
	for _, ev := range elems {
		p, err := c.parseItem(a, ev)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// apply applies op to the attribute, attr.sub, attr[filter] or
// attr[filter].sub: an entry that ends up empty is dropped, and add or replace of attr[filter].sub creates the
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
			return invalid(scimNoTarget, "no %s matches %q", c.noun, t.path)
		}
		if t.sub != nil && v.unassigned() {
			return nil
		}
		item, ok := c.fromFilter(t.filter)
		if !ok {
			return invalid(scimNoTarget, "no %s matches %q, and its filter does not describe one to create", c.noun, t.path)
		}
		*list = append(*list, item)
		matches = []int{len(*list) - 1}
	}
	for _, i := range matches {
		c.mergeInto(p, &(*list)[i])
	}
	if c.isPrimary(&p.v) && p.has["primary"] {
		if len(matches) > 1 {
			return invalid(scimInvalidValue, "%q matches %d %s; only one may be primary", t.path, len(matches), c.nouns)
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
	if op == opAdd || !c.primaryAddOnly {
		primaries := 0
		for i := range ps {
			if c.isPrimary(&ps[i].v) {
				primaries++
			}
		}
		if primaries > 1 {
			return invalid(scimInvalidValue, "at most one %s may be primary", c.noun)
		}
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
			if c.addSkipsEmpty && c.empty(p.v) {
				continue
			}
			i := c.find(*list, &p.v)
			if i < 0 {
				*list = append(*list, p.v)
				i = len(*list) - 1
			} else {
				// Already there: RFC 7644 §3.5.2.1 makes no change to
				// the value; the other sub-attributes, when sent, are
				// taken.
				for _, k := range c.keySubs() {
					delete(p.has, k)
				}
				c.mergeInto(p, &(*list)[i])
			}
			if c.isPrimary(&p.v) {
				c.promote(list, i)
			}
		}
	}
	c.dropEmpty(list)
	return nil
}

func (c *complexList[T]) keySubs() []string {
	if c.key != nil {
		return c.key
	}
	return c.subs
}

// find returns the entry equal to v on every key sub-attribute (compared
// case-insensitively), or -1.
func (c *complexList[T]) find(list []T, v *T) int {
	for i := range list {
		same := true
		for _, s := range c.keySubs() {
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
			switch {
			case sub == "primary":
				match = match && c.isPrimary(&p.v) == c.isPrimary(e)
			case slices.Contains(c.exact, sub):
				match = match && *c.field(&p.v, sub) == *c.field(e, sub)
			default:
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
