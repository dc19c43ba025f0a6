package scim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// GroupRef is one entry of a multi-valued group reference: a group's
// member (a user) or a user's group.
type GroupRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Type    string `json:"type,omitempty"`
}

type groupMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

type groupResource struct {
	Schemas     []string   `json:"schemas"`
	ID          string     `json:"id"`
	ExternalID  string     `json:"externalId,omitempty"`
	DisplayName string     `json:"displayName,omitempty"`
	Members     []GroupRef `json:"members,omitempty"`
	Meta        *groupMeta `json:"meta,omitempty"`
}

// GroupMembersWanted reports whether a Group rendered with these
// attributes and excludedAttributes shows its members, so that a caller
// does not load members it will not show.
func GroupMembersWanted(attributes, excluded []string) bool {
	return groupAttrWanted("members", attributes, excluded)
}

func groupAttrWanted(name string, attributes, excluded []string) bool {
	norm := func(a string) string {
		a = strings.ToLower(a)
		if p := strings.ToLower(SchemaGroup) + ":"; strings.HasPrefix(a, p) {
			a = a[len(p):]
		}
		a, _, _ = strings.Cut(a, ".")
		return a
	}
	for _, a := range excluded {
		if norm(a) == strings.ToLower(name) {
			return false
		}
	}
	if len(attributes) == 0 {
		return true
	}
	for _, a := range attributes {
		if norm(a) == strings.ToLower(name) {
			return true
		}
	}
	return false
}

// EncodeGroup renders g as a SCIM Group with the given members (each a
// User of the organization). Only the attributes opts selects are shown;
// id and schemas always are.
func EncodeGroup(g scimbridge.Group, members []scimbridge.GroupMember, opts EncodeOptions) ([]byte, error) {
	base := strings.TrimRight(opts.BaseURL, "/")
	want := func(name string) bool { return groupAttrWanted(name, opts.Attributes, opts.ExcludedAttributes) }
	res := groupResource{Schemas: []string{SchemaGroup}, ID: g.ID}
	if want("displayName") {
		res.DisplayName = g.DisplayName
	}
	if want("externalId") {
		res.ExternalID = g.ExternalID
	}
	if want("members") && len(members) > 0 {
		res.Members = make([]GroupRef, len(members))
		for i, m := range members {
			display := m.DisplayName
			if display == "" {
				display = m.UserName
			}
			res.Members[i] = GroupRef{Value: m.ProfileID, Display: display, Ref: base + "/Users/" + m.ProfileID, Type: "User"}
		}
	}
	if want("meta") {
		res.Meta = &groupMeta{
			ResourceType: "Group", Created: formatTime(g.CreatedAt), LastModified: formatTime(g.UpdatedAt),
			Location: base + "/Groups/" + g.ID, Version: ETag(g.Version),
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode group: %w", err)
	}
	return b, nil
}
