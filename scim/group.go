package scim

import (
	"encoding/json"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// SchemaGroup is the core Group schema.
const SchemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"

// GroupRequest is a decoded POST or PUT /Groups body: the group's
// attributes and its whole member list (profile ids, lower-cased).
type GroupRequest struct {
	DisplayName string
	ExternalID  string
	Members     []string
}

// DecodeGroup decodes a Group resource. Member names match in any case;
// id, meta and schemas are ignored; members are objects whose value is a
// user id (display, type and $ref are ignored). displayName is required.
func DecodeGroup(body []byte) (GroupRequest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return GroupRequest{}, invalid(scimInvalidSyntax, "request body is not a JSON object")
	}
	var g GroupRequest
	for k, v := range raw {
		var err error
		switch strings.ToLower(k) {
		case "displayname":
			err = decodeString("displayName", v, &g.DisplayName)
		case "externalid":
			err = decodeString("externalId", v, &g.ExternalID)
		case "members":
			g.Members, err = decodeMembers(v)
		case "schemas", "id", "meta":
		default:
			err = invalid(scimInvalidValue, "attribute %s is unknown to the Group schema", k)
		}
		if err != nil {
			return GroupRequest{}, err
		}
	}
	if strings.TrimSpace(g.DisplayName) == "" {
		return GroupRequest{}, invalid(scimInvalidValue, "displayName is required")
	}
	return g, nil
}

func decodeString(name string, v json.RawMessage, dst *string) error {
	if string(v) == "null" {
		*dst = ""
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return invalid(scimInvalidValue, "%s must be a string", name)
	}
	if strings.ContainsRune(*dst, 0) {
		return invalid(scimInvalidValue, "%s must not contain U+0000", name)
	}
	return nil
}

// decodeMembers reads a members value: an array of {"value": id} (or one
// such object); null is no members.
func decodeMembers(v json.RawMessage) ([]string, error) {
	if string(v) == "null" {
		return []string{}, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(v, &one); err != nil {
			return nil, invalid(scimInvalidValue, "members must be an array of objects with a value")
		}
		list = []map[string]json.RawMessage{one}
	}
	ids := make([]string, 0, len(list))
	for _, m := range list {
		var id string
		for k, val := range m {
			if strings.EqualFold(k, "value") {
				if err := decodeString("members.value", val, &id); err != nil {
					return nil, err
				}
			}
		}
		if id == "" {
			return nil, invalid(scimInvalidValue, "a member must have a value")
		}
		ids = append(ids, strings.ToLower(id))
	}
	return ids, nil
}

// GroupPatch is the outcome of ApplyGroupPatch on a group.
type GroupPatch struct {
	DisplayName string
	ExternalID  string
	// Replace, when non-nil, is the whole new member list (a replace of
	// members, or a remove of members without a filter: empty); Add and
	// Remove then apply after it.
	Replace []string
	Add     []string
	Remove  []string
}

// ApplyGroupPatch applies PATCH operations to a group's displayName and
// externalId and collects its member changes, in every dialect IdPs
// speak: RFC add/remove with path members or members[value eq "ID"],
// Entra ID's Add/Remove with a value array (removing only those listed),
// a no-path add or replace of displayName, externalId or members (Okta's
// rename), and a replace of members with a list.
func ApplyGroupPatch(displayName, externalID string, ops []PatchOp) (GroupPatch, error) {
	p := GroupPatch{DisplayName: displayName, ExternalID: externalID}
	for _, op := range ops {
		if err := p.apply(op); err != nil {
			return GroupPatch{}, err
		}
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		return GroupPatch{}, invalid(scimInvalidValue, "displayName is required")
	}
	return p, nil
}

func (p *GroupPatch) apply(op PatchOp) error {
	path := strings.TrimSpace(op.Path)
	if i := strings.LastIndexByte(path, ':'); i >= 0 && strings.EqualFold(path[:i], SchemaGroup) {
		path = path[i+1:]
	}
	attr, filter, hasFilter := strings.Cut(path, "[")
	attr = strings.ToLower(strings.TrimSpace(attr))
	if hasFilter {
		if attr != "members" {
			return invalid(scimInvalidPath, "path %q is not supported", op.Path)
		}
		id, err := memberFilterID(filter)
		if err != nil {
			return err
		}
		switch op.Op {
		case "remove":
			p.removeMembers([]string{id})
		case "add", "replace":
			p.addMembers([]string{id})
		}
		return nil
	}
	switch attr {
	case "":
		if op.Op == "remove" {
			return invalid(scimNoTarget, "a remove operation needs a path")
		}
		return p.applyObject(op)
	case "displayname", "externalid":
		var s string
		if op.Op != "remove" {
			if op.Value == nil {
				return invalid(scimInvalidValue, "%s needs a value", attr)
			}
			if err := decodeString(attr, op.Value, &s); err != nil {
				return err
			}
		}
		if attr == "displayname" {
			p.DisplayName = s
		} else {
			p.ExternalID = s
		}
		return nil
	case "members":
		var ids []string
		if op.Value != nil {
			var err error
			if ids, err = decodeMembers(op.Value); err != nil {
				return err
			}
		}
		switch op.Op {
		case "add":
			p.addMembers(ids)
		case "replace":
			p.Replace, p.Add, p.Remove = ids, nil, nil
		case "remove":
			if op.Value == nil {
				p.Replace, p.Add, p.Remove = []string{}, nil, nil
			} else {
				p.removeMembers(ids)
			}
		}
		return nil
	}
	return invalid(scimInvalidPath, "attribute %s is unknown to the Group schema", op.Path)
}

// applyObject applies a no-path add or replace: an object of attributes.
func (p *GroupPatch) applyObject(op PatchOp) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(op.Value, &raw); err != nil || raw == nil {
		return invalid(scimInvalidValue, "an operation without a path needs an object value")
	}
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "schemas", "id", "meta":
			continue
		case "displayname", "externalid", "members":
		default:
			return invalid(scimInvalidValue, "attribute %s is unknown to the Group schema", k)
		}
		if err := p.apply(PatchOp{Op: op.Op, Path: k, Value: v}); err != nil {
			return err
		}
	}
	return nil
}

func (p *GroupPatch) addMembers(ids []string) {
	p.Remove = without(p.Remove, ids)
	if p.Replace != nil {
		p.Replace = append(p.Replace, ids...)
		return
	}
	p.Add = append(p.Add, ids...)
}

func (p *GroupPatch) removeMembers(ids []string) {
	p.Add = without(p.Add, ids)
	if p.Replace != nil {
		p.Replace = without(p.Replace, ids)
		return
	}
	p.Remove = append(p.Remove, ids...)
}

func without(list, drop []string) []string {
	if len(list) == 0 || len(drop) == 0 {
		return list
	}
	d := make(map[string]bool, len(drop))
	for _, id := range drop {
		d[id] = true
	}
	out := list[:0:0]
	for _, id := range list {
		if !d[id] {
			out = append(out, id)
		}
	}
	return out
}

// memberFilterID reads the `value eq "ID"]` of members[value eq "ID"].
func memberFilterID(f string) (string, error) {
	f = strings.TrimSpace(f)
	body, ok := strings.CutSuffix(f, "]")
	if ok {
		c, ok := parseSimple(strings.TrimSpace(body))
		if ok && c.Op == scimbridge.OpEq && strings.EqualFold(c.Attr, "value") {
			if s, ok := c.Value.(string); ok && s != "" {
				return strings.ToLower(s), nil
			}
		}
	}
	return "", invalid(scimInvalidFilter, "only members[value eq \"ID\"] is supported as a member filter")
}
