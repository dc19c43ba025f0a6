package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge"
)

// kind is how an attribute is stored and patched.
type kind uint8

const (
	kString      kind = iota + 1 // single-valued string
	kActive                      // the boolean "active"
	kName                        // complex "name"
	kEmails                      // multi-valued complex "emails"
	kPhones                      // multi-valued complex "phoneNumbers"
	kAddresses                   // multi-valued complex "addresses"
	kManager                     // enterprise "manager" (complex, value only)
	kPassword                    // write-only: accepted, never stored
	kReadOnly                    // id, meta, schemas, groups: ignored in bodies
	kUnsupported                 // RFC 7643 attributes this server does not keep
)

type field func(*scimbridge.DesiredProfile) *string

// attrDef describes one User attribute.
type attrDef struct {
	name string // canonical spelling
	kind kind
	ent  bool  // in the enterprise extension
	str  field // kString
	subs []subDef
}

// subDef describes one sub-attribute of a complex attribute.
type subDef struct {
	name     string
	str      field // string sub-attributes of name and manager
	readOnly bool  // manager.displayName, manager.$ref: derived on output
}

func (d *attrDef) sub(name string) *subDef {
	low := lowerASCII(name)
	for i := range d.subs {
		if lowerASCII(d.subs[i].name) == low {
			return &d.subs[i]
		}
	}
	return nil
}

func str(name string, f field) *attrDef { return &attrDef{name: name, kind: kString, str: f} }

func entStr(name string, f field) *attrDef {
	return &attrDef{name: name, kind: kString, ent: true, str: f}
}

func other(name string, k kind) *attrDef { return &attrDef{name: name, kind: k} }

// coreAttrs and entAttrs are the catalogue, keyed by lower-case name. They
// are never modified.
var (
	coreAttrs = index(
		str("userName", func(d *scimbridge.DesiredProfile) *string { return &d.UserName }),
		str("displayName", func(d *scimbridge.DesiredProfile) *string { return &d.DisplayName }),
		str("title", func(d *scimbridge.DesiredProfile) *string { return &d.Title }),
		str("userType", func(d *scimbridge.DesiredProfile) *string { return &d.UserType }),
		str("nickName", func(d *scimbridge.DesiredProfile) *string { return &d.NickName }),
		str("locale", func(d *scimbridge.DesiredProfile) *string { return &d.Locale }),
		str("timezone", func(d *scimbridge.DesiredProfile) *string { return &d.Timezone }),
		str("preferredLanguage", func(d *scimbridge.DesiredProfile) *string { return &d.PreferredLanguage }),
		str("profileUrl", func(d *scimbridge.DesiredProfile) *string { return &d.ProfileURL }),
		str("externalId", func(d *scimbridge.DesiredProfile) *string { return &d.ExternalID }),
		&attrDef{name: "name", kind: kName, subs: []subDef{
			{name: "formatted", str: func(d *scimbridge.DesiredProfile) *string { return &d.Formatted }},
			{name: "familyName", str: func(d *scimbridge.DesiredProfile) *string { return &d.FamilyName }},
			{name: "givenName", str: func(d *scimbridge.DesiredProfile) *string { return &d.GivenName }},
			{name: "middleName", str: func(d *scimbridge.DesiredProfile) *string { return &d.MiddleName }},
			{name: "honorificPrefix", str: func(d *scimbridge.DesiredProfile) *string { return &d.HonorificPrefix }},
			{name: "honorificSuffix", str: func(d *scimbridge.DesiredProfile) *string { return &d.HonorificSuffix }},
		}},
		&attrDef{name: "emails", kind: kEmails, subs: emailList.subDefs()},
		other("active", kActive),
		other("password", kPassword),
		other("id", kReadOnly),
		other("meta", kReadOnly),
		other("schemas", kReadOnly),
		other("groups", kReadOnly),
		&attrDef{name: "phoneNumbers", kind: kPhones, subs: phoneList.subDefs()},
		&attrDef{name: "addresses", kind: kAddresses, subs: addressList.subDefs()},
		other("ims", kUnsupported),
		other("photos", kUnsupported),
		other("entitlements", kUnsupported),
		other("roles", kUnsupported),
		other("x509Certificates", kUnsupported),
	)
	entAttrs = index(
		entStr("employeeNumber", func(d *scimbridge.DesiredProfile) *string { return &d.EmployeeNumber }),
		entStr("costCenter", func(d *scimbridge.DesiredProfile) *string { return &d.CostCenter }),
		entStr("organization", func(d *scimbridge.DesiredProfile) *string { return &d.Organization }),
		entStr("division", func(d *scimbridge.DesiredProfile) *string { return &d.Division }),
		entStr("department", func(d *scimbridge.DesiredProfile) *string { return &d.Department }),
		&attrDef{name: "manager", kind: kManager, ent: true, subs: []subDef{
			{name: "value", str: func(d *scimbridge.DesiredProfile) *string { return &d.Manager }},
			{name: "displayName", readOnly: true},
			{name: "$ref", readOnly: true},
		}},
	)
)

func index(defs ...*attrDef) map[string]*attrDef {
	m := make(map[string]*attrDef, len(defs))
	for _, d := range defs {
		m[lowerASCII(d.name)] = d
	}
	return m
}

// scope is what a path names when it names no single attribute.
type scope uint8

const (
	scopeNone       scope = iota // a single attribute
	scopeResource                // the resource itself (no path, or the core schema URN)
	scopeEnterprise              // the whole enterprise extension
)

// target is a resolved attribute path.
type target struct {
	path   string // as written, for messages
	scope  scope
	def    *attrDef
	sub    *subDef           // the sub-attribute, after a dot or after brackets
	filter scimbridge.Filter // emails[filter], phoneNumbers[filter], addresses[filter]
	key    string            // canonical, for duplicate detection
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// cutPrefixFold removes prefix from s, comparing ASCII case-insensitively.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || lowerASCII(s[:len(prefix)]) != lowerASCII(prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// resolve resolves an attribute path: a PATCH path or a member name of a
// body or value object. Names match in any case and may carry the core or
// enterprise schema URN; ent says the name is written inside the
// enterprise extension object. unknownType is the scimType of an unknown
// attribute.
func resolve(path string, ent bool, unknownType string) (target, error) {
	t := target{path: path}
	p := strings.Trim(path, " ")
	if p == "" {
		return t, invalid(unknownType, "an attribute name is empty")
	}
	if rest, ok := cutPrefixFold(p, SchemaEnterprise); ok {
		if rest == "" {
			t.scope = scopeEnterprise
			return t, nil
		}
		if rest[0] != ':' {
			return t, invalid(unknownType, "attribute %q is unknown", path)
		}
		p, ent = rest[1:], true
	} else if rest, ok := cutPrefixFold(p, SchemaUser); ok {
		if rest == "" {
			t.scope = scopeResource
			return t, nil
		}
		if rest[0] != ':' {
			return t, invalid(unknownType, "attribute %q is unknown", path)
		}
		p, ent = rest[1:], false
	} else if _, ok := cutPrefixFold(p, "urn:"); ok {
		// Another schema (a custom extension): not kept by this server.
		t.def = &attrDef{name: path, kind: kUnsupported}
		t.key = lowerASCII(path)
		return t, nil
	}

	attrPart, filterText, afterSub, hasFilter, err := splitValuePath(p)
	if err != nil {
		return t, invalid(scimInvalidPath, "path %q: %v", path, err)
	}
	ap, perr := libParseAttrPath(attrPart)
	if perr != nil || ap.URIPrefix != nil {
		return t, invalid(scimInvalidPath, "path %q is malformed", path)
	}
	attrs := coreAttrs
	if ent {
		attrs = entAttrs
	}
	def := attrs[lowerASCII(ap.AttributeName)]
	if def == nil && !ent {
		// Unqualified enterprise names (department, manager, ...) resolve
		// to the extension: Entra ID's documented requests use them, and
		// no core attribute has these names.
		def = entAttrs[lowerASCII(ap.AttributeName)]
	}
	if def == nil {
		return t, invalid(unknownType, "attribute %q is unknown", path)
	}
	t.def = def
	t.key = lowerASCII(def.name)
	if def.kind == kUnsupported || def.kind == kReadOnly {
		return t, nil // what follows the name does not matter
	}
	subName := ap.SubAttributeName()
	if hasFilter {
		if def.kind != kEmails && def.kind != kPhones && def.kind != kAddresses {
			return t, invalid(scimInvalidPath, "path %q: only emails, phoneNumbers and addresses take a value filter", path)
		}
		if subName != "" {
			return t, invalid(scimInvalidPath, "path %q is malformed", path)
		}
		f, err := parsePathFilter(filterText)
		if err != nil {
			return t, prefixError(retype(err, scimInvalidPath), "path %q: ", path)
		}
		t.filter = f
		t.key += "[" + lowerASCII(strings.Trim(filterText, " ")) + "]"
		subName = afterSub
	}
	if subName != "" {
		if len(def.subs) == 0 {
			return t, invalid(unknownType, "attribute %q has no sub-attribute %q", def.name, subName)
		}
		t.sub = def.sub(subName)
		if t.sub == nil {
			return t, invalid(unknownType, "attribute %q is unknown", path)
		}
		t.key += "." + lowerASCII(t.sub.name)
	}
	return t, nil
}

// pathError is a message-only error from splitValuePath.
type pathError string

func (e pathError) Error() string { return string(e) }

// splitValuePath splits attr[filter].sub into its parts.
func splitValuePath(p string) (attr, filterText, sub string, hasFilter bool, err error) {
	open := strings.IndexByte(p, '[')
	if open < 0 {
		return p, "", "", false, nil
	}
	attr = strings.TrimRight(p[:open], " ")
	rb := closingBracket(p, open)
	if rb < 0 {
		return "", "", "", false, pathError("the value filter has no closing ]")
	}
	filterText = p[open+1 : rb]
	rest := p[rb+1:]
	if rest != "" {
		if rest[0] != '.' || len(rest) == 1 {
			return "", "", "", false, pathError("only .sub-attribute may follow ]")
		}
		sub = rest[1:]
		for i := 0; i < len(sub); i++ {
			if !isWordChar(sub[i]) || sub[i] == '.' || sub[i] == '+' {
				return "", "", "", false, pathError("only .sub-attribute may follow ]")
			}
		}
	}
	return attr, filterText, sub, true, nil
}

// retype changes the scimType of an *Error (a filter error inside a PATCH
// path is an invalidPath).
func retype(err error, scimType string) error {
	if e, ok := err.(*scimbridge.Error); ok {
		c := *e
		if c.ScimType == scimInvalidFilter {
			c.ScimType = scimType
		}
		return &c
	}
	return err
}
