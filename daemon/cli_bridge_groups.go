package daemon

import (
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

// groupFlags are the group settings of `bridge google set`.
type groupFlags struct {
	groups    *string
	flatten   *bool
	usersFrom *bool
}

func addGroupFlags(f *flags) groupFlags {
	return groupFlags{
		groups: f.String("groups", "", "sync Google groups: `all`, query:QUERY (Google's group search), "+
			"emails:ADDRESS,... or none (off, the default)"),
		flatten:   f.Bool("flatten-groups", false, "members of nested groups are members of the groups that contain them"),
		usersFrom: f.Bool("users-from-groups", false, "sync only users who are members of the synced groups"),
	}
}

// set copies a given group flag into the change.
func (g groupFlags) set(name string, ch *admin.BridgeChange) {
	switch name {
	case "groups":
		ch.Groups = g.groups
	case "flatten-groups":
		ch.FlattenGroups = g.flatten
	case "users-from-groups":
		ch.UsersFromGroups = g.usersFrom
	}
}

// groupCountsText is a report's group counts on one line.
func groupCountsText(g scimbridge.GroupCounts) string {
	return fmt.Sprintf("created %d, updated %d, deleted %d, unchanged %d, members added %d, removed %d, failed %d, held %d; listed in %s",
		g.Created, g.Updated, g.Deleted, g.Unchanged, g.MembersAdded, g.MembersRemoved, g.Failed, g.Held,
		(time.Duration(g.ListingMillis) * time.Millisecond).String())
}
