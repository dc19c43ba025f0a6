package scim

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// PatchOp is one decoded PATCH operation.
type PatchOp struct {
	// Op is "add", "replace" or "remove", lower-cased.
	Op string
	// Path is the target as sent; empty means the resource itself.
	Path string
	// Value is the operation's value as compact JSON; nil when absent.
	Value json.RawMessage
}

// PatchResult is the outcome of ApplyPatch.
type PatchResult struct {
	Desired scimbridge.DesiredProfile
	// Password reports that an operation set a password: accepted, never
	// stored.
	Password bool
}

// DecodePatch parses a PatchOp body (RFC 7644 §3.5.2). "schemas" may be
// omitted (some clients do); when present it must list SchemaPatchOp.
// Member names ("Operations", "op", "path", "value") and op names (Entra
// ID's "Add", "Replace") match in any case; other top-level members are
// ignored, but an operation with an unknown member is refused, as a
// misspelt "value" would otherwise clear an attribute. Between 1 and 1000
// operations are accepted.
//
// Errors are EINVALID with scimType invalidSyntax (bad JSON, nesting
// deeper than 32, a malformed message or operation), invalidValue (U+0000,
// more than 1000 operations) or invalidPath (a path that is not a string).
func DecodePatch(body []byte) ([]PatchOp, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	if v.kind != jObject {
		return nil, invalid(scimInvalidSyntax, "a PATCH body must be a JSON object, not %s", v.typeName())
	}
	var ops *jval
	for i, m := range v.obj {
		switch lowerASCII(m.key) {
		case "schemas":
			if err := checkPatchSchemas(m.val); err != nil {
				return nil, err
			}
		case "operations":
			if ops != nil {
				return nil, invalid(scimInvalidSyntax, "Operations is given more than once")
			}
			ops = &v.obj[i].val
		}
	}
	if ops == nil || ops.kind == jNull {
		return nil, invalid(scimInvalidSyntax, "a PATCH body needs Operations")
	}
	if ops.kind != jArray {
		return nil, invalid(scimInvalidSyntax, "Operations must be an array, not %s", ops.typeName())
	}
	if len(ops.arr) == 0 {
		return nil, invalid(scimInvalidSyntax, "Operations is empty")
	}
	if len(ops.arr) > maxPatchOperations {
		return nil, invalid(scimInvalidValue, "a PATCH request takes at most %d operations, not %d", maxPatchOperations, len(ops.arr))
	}
	out := make([]PatchOp, 0, len(ops.arr))
	for i, ov := range ops.arr {
		op, err := decodeOp(ov)
		if err != nil {
			return nil, prefixError(err, "operation %d: ", i+1)
		}
		out = append(out, op)
	}
	return out, nil
}

func checkPatchSchemas(v jval) error {
	if v.kind == jNull {
		return nil
	}
	if v.kind == jArray {
		for _, s := range v.arr {
			if s.kind == jString && strings.EqualFold(s.s, SchemaPatchOp) {
				return nil
			}
		}
	}
	return invalid(scimInvalidSyntax, "schemas must list %s", SchemaPatchOp)
}

func decodeOp(v jval) (PatchOp, error) {
	var op PatchOp
	if v.kind != jObject {
		return op, invalid(scimInvalidSyntax, "an operation must be an object, not %s", v.typeName())
	}
	seen := map[string]bool{}
	for _, m := range v.obj {
		name := lowerASCII(m.key)
		if seen[name] {
			return op, invalid(scimInvalidSyntax, "%q is given more than once", m.key)
		}
		seen[name] = true
		switch name {
		case "op":
			if m.val.kind != jString {
				return op, invalid(scimInvalidSyntax, "op must be a string, not %s", m.val.typeName())
			}
			op.Op = lowerASCII(m.val.s)
			if op.Op != "add" && op.Op != "replace" && op.Op != "remove" {
				return op, invalid(scimInvalidSyntax, "op must be add, replace or remove, not %q", m.val.s)
			}
		case "path":
			switch m.val.kind {
			case jNull:
			case jString:
				op.Path = m.val.s
			default:
				return op, invalid(scimInvalidPath, "path must be a string, not %s", m.val.typeName())
			}
		case "value":
			var b bytes.Buffer
			m.val.marshal(&b)
			op.Value = b.Bytes()
		default:
			return op, invalid(scimInvalidSyntax, "unknown member %q (an operation has op, path and value)", m.key)
		}
	}
	if op.Op == "" {
		return op, invalid(scimInvalidSyntax, "op is missing")
	}
	return op, nil
}

// ApplyPatch applies ops in order to current, the stored state
// (current.Active is the stored state), and returns the new desired state
// (RFC 7644 §3.5.2). current is not modified. The request is atomic: on
// error nothing of it applies.
//
// Paths and member names match in any case and may carry the core or
// enterprise schema URN. add and replace without a path take an object
// whose members may be nested ({"name": {"givenName": "x"}}), dotted
// ("name.givenName") or URN-prefixed, including the nested extension
// object. On emails: add appends, merging an entry with the same value and
// type; replace replaces the list; emails[filter] and emails[filter].sub
// select entries; add and replace of emails[filter].sub (and add of
// emails[filter]) create the entry the filter's equalities describe when
// none matches; a remove that matches nothing is not an error; setting
// primary to true clears it on the other entries. Complex name and manager
// merge the sub-attributes given. id, meta, groups and schemas in values
// are ignored; as paths they are a mutability error. password is accepted,
// reported in PatchResult.Password and never stored.
//
// Errors are EINVALID with scimType invalidPath (a malformed path, an
// unknown or unsupported attribute), invalidValue (a wrong type, userName
// removed, active removed, two primary emails, a result over
// scimbridge.CheckLimits), mutability (a read-only
// target), noTarget (remove without a path, replace of emails[filter]
// matching nothing) or invalidSyntax.
func ApplyPatch(current scimbridge.DesiredProfile, ops []PatchOp) (PatchResult, error) {
	a := applier{d: current}
	a.d.Emails = cloneList(current.Emails, emailList.primary)
	a.d.PhoneNumbers = cloneList(current.PhoneNumbers, phoneList.primary)
	a.d.Addresses = cloneList(current.Addresses, addressList.primary)
	for i, op := range ops {
		if err := a.applyOp(op); err != nil {
			return PatchResult{}, prefixError(err, "operation %d: ", i+1)
		}
	}
	if err := a.finish(); err != nil {
		return PatchResult{}, err
	}
	return PatchResult{Desired: a.d, Password: a.password}, nil
}

func (a *applier) applyOp(op PatchOp) error {
	var kind opKind
	switch lowerASCII(op.Op) {
	case "add":
		kind = opAdd
	case "replace":
		kind = opReplace
	case "remove":
		kind = opRemove
	default:
		return invalid(scimInvalidSyntax, "op must be add, replace or remove, not %q", op.Op)
	}
	v := jval{kind: jAbsent}
	if len(op.Value) > 0 {
		var err error
		if v, err = parseJSON(op.Value); err != nil {
			return err
		}
	}
	if kind != opRemove && v.kind == jAbsent {
		return invalid(scimInvalidValue, "%s needs a value", lowerASCII(op.Op))
	}
	return a.applyPath(kind, op.Path, v)
}
