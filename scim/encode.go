package scim

import (
	"bytes"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// EncodeOptions shape one encoded User resource.
type EncodeOptions struct {
	// BaseURL is the public SCIM base, e.g. https://x/api/connect/v1;
	// meta.location is BaseURL+"/Users/"+id.
	BaseURL string
	// Attributes and ExcludedAttributes are the RFC 7644 §3.9 query
	// parameters, as split by ParseAttributeList. Names match in any case
	// and may carry a schema URN; the enterprise URN alone names the whole
	// extension. id and schemas are always returned; meta is returned
	// unless Attributes is given without it, or it is excluded.
	Attributes, ExcludedAttributes []string
	// Manager is set when manager.value resolved to a profile; $ref and
	// displayName are then added to manager.
	Manager *Manager
	// Groups are the user's direct groups, shown as the read-only groups
	// attribute (value, display, $ref) when any.
	Groups []GroupRef
}

// EncodeUser returns the SCIM User resource of p: active from State,
// externalId, meta {resourceType, created, lastModified, location,
// version W/"<version>"}. Unassigned attributes are omitted; emails,
// phoneNumbers and addresses are exactly as stored (primary only where it was sent); enterprise
// attributes sit under the extension URN, which schemas lists only when
// present. Keys come in a fixed order, so equal profiles give equal bytes.
// Times are UTC with microsecond precision, as stored.
func EncodeUser(p scimbridge.Profile, opts EncodeOptions) ([]byte, error) {
	var b bytes.Buffer
	if err := EncodeUserTo(&b, p, opts); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodeUserTo appends the resource EncodeUser returns to b, so a list
// encodes its resources into one body without a copy of each. On error
// nothing is appended.
func EncodeUserTo(b *bytes.Buffer, p scimbridge.Profile, opts EncodeOptions) error {
	if p.ID == "" {
		return scimbridge.Errorf(scimbridge.EINTERNAL, "encode user: profile has no id")
	}
	sel := newSelection(opts.Attributes, opts.ExcludedAttributes)
	members := sel.apply(userMembers(p, opts))
	schemas := []jval{jstr(SchemaUser)}
	for _, m := range members {
		if m.key == SchemaEnterprise {
			schemas = append(schemas, jstr(SchemaEnterprise))
		}
	}
	doc := jval{kind: jObject, obj: append([]jmember{{key: "schemas", val: jval{kind: jArray, arr: schemas}}}, members...)}
	doc.marshal(b)
	return nil
}

func jstr(s string) jval { return jval{kind: jString, s: s} }

// obj collects members, skipping unassigned strings.
type obj []jmember

func (o *obj) str(key, s string) {
	if s != "" {
		*o = append(*o, jmember{key: key, val: jstr(s)})
	}
}

func (o *obj) val(key string, v jval) {
	if v.kind == jObject && len(v.obj) == 0 || v.kind == jArray && len(v.arr) == 0 {
		return
	}
	*o = append(*o, jmember{key: key, val: v})
}

// primary adds "primary" when it was sent: the server never adds it.
func (o *obj) primary(b *bool) {
	if b != nil {
		*o = append(*o, jmember{key: "primary", val: jval{kind: jBool, b: *b}})
	}
}

func (o obj) jval() jval { return jval{kind: jObject, obj: o} }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

func userMembers(p scimbridge.Profile, opts EncodeOptions) []jmember {
	base := strings.TrimRight(opts.BaseURL, "/")
	a := p.Attributes
	var o obj
	o.str("id", p.ID)
	o.str("externalId", p.ExternalID)
	o.str("userName", a.UserName)
	var name obj
	name.str("formatted", a.Formatted)
	name.str("familyName", a.FamilyName)
	name.str("givenName", a.GivenName)
	name.str("middleName", a.MiddleName)
	name.str("honorificPrefix", a.HonorificPrefix)
	name.str("honorificSuffix", a.HonorificSuffix)
	o.val("name", name.jval())
	o.str("displayName", a.DisplayName)
	o.str("nickName", a.NickName)
	o.str("profileUrl", a.ProfileURL)
	o.str("title", a.Title)
	o.str("userType", a.UserType)
	o.str("preferredLanguage", a.PreferredLanguage)
	o.str("locale", a.Locale)
	o.str("timezone", a.Timezone)
	o = append(o, jmember{key: "active", val: jval{kind: jBool, b: p.State == scimbridge.StateActive}})
	emails := jval{kind: jArray}
	for _, e := range a.Emails {
		var eo obj
		eo.str("value", e.Value)
		eo.str("display", e.Display)
		eo.str("type", e.Type)
		if e.Primary != nil {
			eo = append(eo, jmember{key: "primary", val: jval{kind: jBool, b: *e.Primary}})
		}
		emails.arr = append(emails.arr, eo.jval())
	}
	o.val("emails", emails)
	phones := jval{kind: jArray}
	for _, ph := range a.PhoneNumbers {
		var po obj
		po.str("value", ph.Value)
		po.str("display", ph.Display)
		po.str("type", ph.Type)
		po.primary(ph.Primary)
		phones.arr = append(phones.arr, po.jval())
	}
	o.val("phoneNumbers", phones)
	addresses := jval{kind: jArray}
	for _, ad := range a.Addresses {
		var ao obj
		ao.str("formatted", ad.Formatted)
		ao.str("streetAddress", ad.StreetAddress)
		ao.str("locality", ad.Locality)
		ao.str("region", ad.Region)
		ao.str("postalCode", ad.PostalCode)
		ao.str("country", ad.Country)
		ao.str("type", ad.Type)
		ao.primary(ad.Primary)
		addresses.arr = append(addresses.arr, ao.jval())
	}
	o.val("addresses", addresses)

	var ent obj
	ent.str("employeeNumber", a.EmployeeNumber)
	ent.str("costCenter", a.CostCenter)
	ent.str("organization", a.Organization)
	ent.str("division", a.Division)
	ent.str("department", a.Department)
	if a.Manager != "" {
		var m obj
		m.str("value", a.Manager)
		if opts.Manager != nil {
			m.str("$ref", base+"/Users/"+opts.Manager.ID)
			m.str("displayName", opts.Manager.DisplayName)
		}
		ent.val("manager", m.jval())
	}
	o.val(SchemaEnterprise, ent.jval())

	if len(opts.Groups) > 0 {
		groups := jval{kind: jArray}
		for _, g := range opts.Groups {
			var e obj
			e.str("value", g.Value)
			e.str("display", g.Display)
			e.str("$ref", g.Ref)
			groups.arr = append(groups.arr, e.jval())
		}
		o.val("groups", groups)
	}

	var meta obj
	meta.str("resourceType", "User")
	meta.str("created", formatTime(p.CreatedAt))
	meta.str("lastModified", formatTime(p.UpdatedAt))
	meta.str("location", base+"/Users/"+p.ID)
	meta.str("version", ETag(p.Version))
	o.val("meta", meta.jval())
	return o
}

// ParseAttributeList splits a comma-separated attributes or
// excludedAttributes query value, dropping blanks.
func ParseAttributeList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// attrRef is one attributes/excludedAttributes entry, lower-cased: the
// attribute (empty for the whole extension) and sub-attribute.
type attrRef struct {
	ent       bool
	name, sub string
}

func parseAttrRef(s string) (attrRef, bool) {
	s = strings.TrimSpace(s)
	var r attrRef
	if rest, ok := cutPrefixFold(s, SchemaEnterprise); ok {
		r.ent = true
		if rest == "" {
			return r, true
		}
		if rest[0] != ':' {
			return r, false
		}
		s = rest[1:]
	} else if rest, ok := cutPrefixFold(s, SchemaUser+":"); ok {
		s = rest
	}
	name, sub, _ := strings.Cut(s, ".")
	r.name, r.sub = lowerASCII(name), lowerASCII(sub)
	return r, r.name != ""
}

// selection applies attributes and excludedAttributes.
type selection struct {
	include, exclude []attrRef
}

func newSelection(include, exclude []string) selection {
	var s selection
	for _, a := range include {
		if r, ok := parseAttrRef(a); ok {
			s.include = append(s.include, r)
		}
	}
	for _, a := range exclude {
		if r, ok := parseAttrRef(a); ok {
			s.exclude = append(s.exclude, r)
		}
	}
	return s
}

// match reports whether refs name the attribute whole, and which of its
// sub-attributes they name.
func match(refs []attrRef, ent bool, name string) (whole bool, subs []string) {
	for _, r := range refs {
		switch {
		case r.ent != ent:
		case ent && r.name == "":
			whole = true
		case r.name == name && r.sub == "":
			whole = true
		case r.name == name:
			subs = append(subs, r.sub)
		}
	}
	return whole, subs
}

func (s selection) apply(members []jmember) []jmember {
	if len(s.include) == 0 && len(s.exclude) == 0 {
		return members
	}
	out := make([]jmember, 0, len(members))
	for _, m := range members {
		if m.key == "id" {
			out = append(out, m)
			continue
		}
		if m.key == SchemaEnterprise {
			var ent []jmember
			for _, em := range m.val.obj {
				if v, ok := s.attr(true, em.key, em.val); ok {
					ent = append(ent, jmember{key: em.key, val: v})
				}
			}
			if len(ent) > 0 {
				out = append(out, jmember{key: m.key, val: jval{kind: jObject, obj: ent}})
			}
			continue
		}
		if v, ok := s.attr(false, m.key, m.val); ok {
			out = append(out, jmember{key: m.key, val: v})
		}
	}
	return out
}

// attr applies the selection to one attribute; ok is false when it is
// left out.
func (s selection) attr(ent bool, key string, v jval) (jval, bool) {
	name := lowerASCII(key)
	if len(s.include) > 0 {
		whole, subs := match(s.include, ent, name)
		if !whole {
			if len(subs) == 0 {
				return v, false
			}
			v = filterSubs(v, func(sub string) bool { return contains(subs, sub) })
		}
	}
	whole, subs := match(s.exclude, ent, name)
	if whole {
		return v, false
	}
	if len(subs) > 0 {
		v = filterSubs(v, func(sub string) bool { return !contains(subs, sub) })
	}
	return v, !v.empty()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// filterSubs keeps the sub-attributes of a complex value (or of each
// element of a multi-valued one) that keep accepts. A simple value has no
// sub-attributes: none is kept.
func filterSubs(v jval, keep func(string) bool) jval {
	switch v.kind {
	case jObject:
		out := jval{kind: jObject}
		for _, m := range v.obj {
			if keep(lowerASCII(m.key)) {
				out.obj = append(out.obj, m)
			}
		}
		return out
	case jArray:
		out := jval{kind: jArray}
		for _, e := range v.arr {
			if fe := filterSubs(e, keep); !fe.empty() {
				out.arr = append(out.arr, fe)
			}
		}
		return out
	}
	return jval{kind: jAbsent}
}
