package scim

import (
	"github.com/scimbridge/scimbridge"
)

// UserRequest is a decoded POST/PUT body.
type UserRequest struct {
	// Desired holds every attribute sent; what was not sent is unassigned.
	// When ActiveSet is false, Desired.Active is true (the POST default).
	Desired scimbridge.DesiredProfile
	// ActiveSet reports that "active" was given a value (PUT: omitted
	// means unchanged).
	ActiveSet bool
	// Password reports that a password was sent: accepted, never stored.
	Password bool
}

// DecodeUser parses a POST/PUT body (application/scim+json or
// application/json) into the desired profile it describes.
//
// It is lenient where identity providers differ and the meaning is
// unambiguous: attribute names in any case, URN-prefixed names
// ("urn:...:enterprise:2.0:User:department") and the nested extension
// object, dotted names ("name.givenName"), booleans as strings ("True",
// "false"), manager as a string, an object or a one-element array, a lone
// email object where a list belongs, null, "" and absent as the same
// thing. id, meta, groups and schemas are ignored, as are $ref and
// displayName of manager. Unqualified enterprise names ("department",
// "manager") resolve to the extension. RFC 7643 attributes this server does
// not keep (ims, photos, roles, ...) and other schemas' extensions are
// accepted only when empty. An email entry without a value is dropped.
//
// Errors are *scimbridge.Error with code EINVALID and scimType
// invalidSyntax (bad JSON, not an object, nesting deeper than 32, an
// unknown or unsupported attribute) or invalidValue (U+0000 in a string,
// a wrong type, userName missing or empty, an attribute given twice, two
// primary emails, a value over scimbridge.CheckLimits).
func DecodeUser(body []byte) (UserRequest, error) {
	v, err := parseJSON(body)
	if err != nil {
		return UserRequest{}, err
	}
	if v.kind != jObject {
		return UserRequest{}, invalid(scimInvalidSyntax, "request body must be a JSON object, not %s", v.typeName())
	}
	a := applier{put: true}
	if err := a.applyObject(opReplace, scopeResource, v, "request body", seenSet{}); err != nil {
		return UserRequest{}, err
	}
	if err := a.finish(); err != nil {
		return UserRequest{}, err
	}
	if !a.activeSet {
		a.d.Active = true
	}
	return UserRequest{Desired: a.d, ActiveSet: a.activeSet, Password: a.password}, nil
}
