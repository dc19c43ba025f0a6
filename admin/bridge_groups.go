package admin

import (
	"context"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// applyGroups sets the change's group settings on st; the group scope is
// stored in its parsed form ("" for none).
func applyGroups(c BridgeChange, st *scimbridge.BridgeSettings) {
	if c.Groups != nil {
		if gs, err := bridge.ParseGroupScope(*c.Groups); err == nil {
			st.Groups = gs.String()
		}
	}
	if c.FlattenGroups != nil {
		st.FlattenGroups = *c.FlattenGroups
	}
	if c.UsersFromGroups != nil {
		st.UsersFromGroups = *c.UsersFromGroups
	}
}

// groupCheckOptions asks for the group scope too when groups are on.
func groupCheckOptions(st scimbridge.BridgeSettings, opts ...bridge.Option) []bridge.Option {
	if gs, err := bridge.ParseGroupScope(st.Groups); err == nil && gs.On() {
		opts = append(opts, bridge.WithGroups())
	}
	return opts
}

// checkGroups lists one group when groups are on, so settings that need
// the group scope are refused when it is not granted.
func checkGroups(ctx context.Context, dir *bridge.Directory, st scimbridge.BridgeSettings) error {
	if gs, err := bridge.ParseGroupScope(st.Groups); err != nil || !gs.On() {
		return err
	}
	return dir.CheckGroups(ctx, st.Customer)
}
