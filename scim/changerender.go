package scim

import "github.com/scimbridge/scimbridge"

// ChangeRenderer renders the resources of change records (the changes
// feed): a user as its SCIM User resource, a group as its SCIM Group
// resource without members. The store is given one at open.
type ChangeRenderer struct {
	// BaseURL is the public SCIM base of meta.location.
	BaseURL string
}

var _ scimbridge.ChangeRenderer = ChangeRenderer{}

func (r ChangeRenderer) RenderUser(p scimbridge.Profile) ([]byte, error) {
	return EncodeUser(p, EncodeOptions{BaseURL: r.BaseURL})
}

func (r ChangeRenderer) RenderGroup(g scimbridge.Group) ([]byte, error) {
	return EncodeGroup(g, nil, EncodeOptions{BaseURL: r.BaseURL})
}
