package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// opKind is a PATCH operation; decoding a POST/PUT body is a replace of
// every attribute sent into an empty profile.
type opKind uint8

const (
	opAdd opKind = iota + 1
	opReplace
	opRemove
)

// applier writes attribute values into a desired profile.
type applier struct {
	d         scimbridge.DesiredProfile
	password  bool // a password was sent
	put       bool // decoding a POST/PUT body rather than applying PATCH
	activeSet bool // "active" was given a value
}

// unknownType is the scimType of an unknown attribute: a body that does
// not fit the schema is invalidSyntax, a PATCH target invalidPath.
func (a *applier) unknownType() string {
	if a.put {
		return scimInvalidSyntax
	}
	return scimInvalidPath
}

// applyPath applies op with value v at path; an empty path is the
// resource itself.
func (a *applier) applyPath(op opKind, path string, v jval) error {
	if strings.Trim(path, " ") == "" {
		if op == opRemove {
			return invalid(scimNoTarget, "remove needs a path")
		}
		return a.applyObject(op, scopeResource, v, "value", seenSet{})
	}
	t, err := resolve(path, false, a.unknownType())
	if err != nil {
		return err
	}
	switch t.scope {
	case scopeEnterprise:
		if op == opRemove {
			a.clearEnterprise()
			return nil
		}
		return a.applyObject(op, scopeEnterprise, v, path, seenSet{})
	case scopeResource:
		if op == opRemove {
			return invalid(scimNoTarget, "remove needs an attribute path, not %q", path)
		}
		return a.applyObject(op, scopeResource, v, path, seenSet{})
	}
	return a.applyTarget(op, t, v, true)
}

// applyObject applies each member of the object v as an attribute of sc
// (the resource, or the enterprise extension). Member names may be nested,
// dotted or URN-prefixed; read-only members are ignored.
func (a *applier) applyObject(op opKind, sc scope, v jval, what string, seen seenSet) error {
	if v.unassigned() && sc == scopeEnterprise {
		a.clearEnterprise()
		return nil
	}
	if v.kind != jObject {
		return invalid(scimInvalidValue, "%s must be an object of attributes, not %s", what, v.typeName())
	}
	for _, m := range v.obj {
		t, err := resolve(m.key, sc == scopeEnterprise, a.unknownType())
		if err != nil {
			return err
		}
		if t.scope != scopeNone {
			if err := a.applyObject(op, t.scope, m.val, m.key, seen); err != nil {
				return err
			}
			continue
		}
		if a.put && m.val.unassigned() {
			// In a POST/PUT body null is absent (the attribute is then
			// unassigned), so it neither clears nor conflicts with another
			// spelling that carries a value: Entra ID sends unmapped
			// attributes as top-level nulls.
			continue
		}
		if err := seen.add(t, m.val); err != nil {
			return err
		}
		if err := a.applyTarget(op, t, m.val, false); err != nil {
			return err
		}
	}
	return nil
}

// applyTarget applies op to one attribute. explicit says the attribute was
// named by a PATCH path: read-only attributes are then a mutability error
// rather than ignored.
func (a *applier) applyTarget(op opKind, t target, v jval, explicit bool) error {
	switch t.def.kind {
	case kReadOnly:
		if explicit {
			return invalid(scimMutability, "attribute %q is read-only", t.path)
		}
		return nil
	case kUnsupported:
		// Standard attributes this server does not keep (ims, photos,
		// roles, ...) and other schemas' extensions are accepted and
		// dropped: Entra ID and Okta send them under their default mappings,
		// and refusing them would fail every create. /Schemas does not
		// advertise them, so no client is told they are kept.
		return nil
	case kPassword:
		if op == opRemove || v.unassigned() {
			return nil
		}
		if v.kind != jString {
			return invalid(scimInvalidValue, "password must be a string, not %s", v.typeName())
		}
		a.password = true
		return nil
	case kString:
		return a.setString(op, t.def.str, t.def.name, v)
	case kActive:
		return a.setActive(op, v)
	case kName:
		if t.sub != nil {
			return a.setString(op, t.sub.str, "name."+t.sub.name, v)
		}
		return a.applyName(op, t.def, v)
	case kManager:
		if t.sub != nil {
			if t.sub.readOnly {
				if explicit {
					return invalid(scimMutability, "manager.%s is derived by the server; set manager.value", t.sub.name)
				}
				return nil
			}
			return a.setString(op, t.sub.str, "manager.value", v)
		}
		if op == opRemove {
			a.d.Manager = ""
			return nil
		}
		return a.applyManager(v)
	case kEmails:
		return emailList.apply(a, op, t, v)
	case kPhones:
		return phoneList.apply(a, op, t, v)
	case kAddresses:
		return addressList.apply(a, op, t, v)
	}
	return invalid(a.unknownType(), "attribute %q is unknown", t.path)
}

func (a *applier) setString(op opKind, f field, name string, v jval) error {
	p := f(&a.d)
	if op == opRemove || v.unassigned() {
		*p = ""
		return nil
	}
	if v.kind != jString {
		return invalid(scimInvalidValue, "%s must be a string, not %s", name, v.typeName())
	}
	*p = v.s
	return nil
}

// parseBool takes a JSON boolean or the strings "true"/"false" in any case
// (Entra ID sends "True" and "False").
func parseBool(v jval) (bool, bool) {
	switch {
	case v.kind == jBool:
		return v.b, true
	case v.kind == jString && strings.EqualFold(v.s, "true"):
		return true, true
	case v.kind == jString && strings.EqualFold(v.s, "false"):
		return false, true
	}
	return false, false
}

func (a *applier) setActive(op opKind, v jval) error {
	if op == opRemove {
		return invalid(scimInvalidValue, "active cannot be removed; replace it with false to deactivate")
	}
	if v.unassigned() {
		if a.put {
			return nil // omitted: unchanged on PUT, active on POST
		}
		return invalid(scimInvalidValue, "active must be true or false")
	}
	b, ok := parseBool(v)
	if !ok {
		return invalid(scimInvalidValue, "active must be true or false, not %s", v.typeName())
	}
	a.d.Active, a.activeSet = b, true
	return nil
}

// applyName merges the sub-attributes of v into name (RFC 7644 §3.5.2.3:
// sub-attributes not given are left unchanged); null clears it.
func (a *applier) applyName(op opKind, def *attrDef, v jval) error {
	if op == opRemove || v.unassigned() {
		for _, s := range def.subs {
			*s.str(&a.d) = ""
		}
		return nil
	}
	if v.kind != jObject {
		return invalid(scimInvalidValue, "name must be an object, not %s", v.typeName())
	}
	seen := map[string]bool{}
	for _, m := range v.obj {
		s := def.sub(m.key)
		if s == nil {
			return invalid(a.unknownType(), "attribute \"name.%s\" is unknown", m.key)
		}
		if seen[s.name] {
			return invalid(scimInvalidValue, "name.%s is given more than once", s.name)
		}
		seen[s.name] = true
		if err := a.setString(opReplace, s.str, "name."+s.name, m.val); err != nil {
			return err
		}
	}
	return nil
}

// applyManager sets manager.value from a string ("id"), an object
// ({"value": "id"}; displayName and $ref are derived on output and ignored)
// or a one-element array of either.
func (a *applier) applyManager(v jval) error {
	switch v.kind {
	case jAbsent, jNull:
		a.d.Manager = ""
	case jString:
		a.d.Manager = v.s
	case jObject:
		seenValue := false
		for _, m := range v.obj {
			switch lowerASCII(m.key) {
			case "value":
				if seenValue {
					return invalid(scimInvalidValue, "manager.value is given more than once")
				}
				seenValue = true
				if m.val.unassigned() {
					a.d.Manager = ""
				} else if m.val.kind == jString {
					a.d.Manager = m.val.s
				} else {
					return invalid(scimInvalidValue, "manager.value must be a string, not %s", m.val.typeName())
				}
			case "displayname", "$ref":
			default:
				return invalid(a.unknownType(), "attribute \"manager.%s\" is unknown", m.key)
			}
		}
	case jArray:
		switch len(v.arr) {
		case 0:
			a.d.Manager = ""
		case 1:
			if k := v.arr[0].kind; k != jString && k != jObject && k != jNull {
				return invalid(scimInvalidValue, "manager must be a string or an object, not %s", v.arr[0].typeName())
			}
			return a.applyManager(v.arr[0])
		default:
			return invalid(scimInvalidValue, "manager takes one value, not %d", len(v.arr))
		}
	default:
		return invalid(scimInvalidValue, "manager must be a string or an object, not %s", v.typeName())
	}
	return nil
}

func (a *applier) clearEnterprise() {
	for _, d := range entAttrs {
		if d.str != nil {
			*d.str(&a.d) = ""
		}
	}
	a.d.Manager = ""
}

// finish checks what must hold once every value is in.
func (a *applier) finish() error {
	if strings.TrimSpace(a.d.UserName) == "" {
		return invalid(scimInvalidValue, "userName is required")
	}
	primaries := 0
	for _, e := range a.d.Emails {
		if e.Primary != nil && *e.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		return invalid(scimInvalidValue, "at most one email may be primary")
	}
	// The value limits hold for the whole result, so neither a body nor a
	// series of PATCH operations builds a profile over them.
	return scimbridge.CheckLimits(a.d)
}

// seenSet detects an attribute given twice in one object ("title" and
// "TITLE", "name" and "name.givenName" setting the same sub-attribute):
// which one wins would be a guess.
type seenSet map[string][]string

func (s seenSet) add(t target, v jval) error {
	base := lowerASCII(t.def.name)
	if t.def.ent {
		base = "ent:" + base
	}
	var leaves []string
	switch {
	case t.def.kind == kReadOnly:
		return nil
	case t.def.kind == kName && t.sub == nil && v.kind == jObject:
		for _, m := range v.obj {
			leaves = append(leaves, lowerASCII(m.key))
		}
	case t.def.kind == kManager:
		if t.sub != nil && t.sub.readOnly {
			return nil
		}
		leaves = []string{"value"}
	default:
		leaves = []string{strings.TrimPrefix(strings.TrimPrefix(t.key, lowerASCII(t.def.name)), ".")}
	}
	for _, leaf := range leaves {
		for _, prev := range s[base] {
			if prev == "" || leaf == "" || prev == leaf ||
				strings.HasPrefix(prev, leaf+".") || strings.HasPrefix(leaf, prev+".") {
				return invalid(scimInvalidValue, "attribute %q is given more than once", t.path)
			}
		}
		s[base] = append(s[base], leaf)
	}
	return nil
}
