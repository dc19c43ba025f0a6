package bridge

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// Group scope kinds, the part of BridgeSettings.Groups before the colon.
const (
	GroupsAll    = "all"
	GroupsQuery  = "query"
	GroupsEmails = "emails"
	// GroupsNone switches groups off on the command line; it is stored as
	// "".
	GroupsNone = "none"
)

// maxGroupQuery bounds a stored group query.
const maxGroupQuery = 1024

// GroupSelection is a parsed BridgeSettings.Groups.
type GroupSelection struct {
	Kind   string   // "" (off), GroupsAll, GroupsQuery or GroupsEmails
	Query  string   // GroupsQuery
	Emails []string // GroupsEmails: lower-cased, each once
}

// On reports whether groups are synced.
func (s GroupSelection) On() bool { return s.Kind != "" }

// String is the stored form.
func (s GroupSelection) String() string {
	switch s.Kind {
	case GroupsAll:
		return GroupsAll
	case GroupsQuery:
		return GroupsQuery + ":" + s.Query
	case GroupsEmails:
		return GroupsEmails + ":" + strings.Join(s.Emails, ",")
	}
	return ""
}

// ParseGroupScope parses a group scope: "all", "query:Q" (Google's group
// search, as groups.list takes it), "emails:a@x,b@x", or "none" / "" for
// groups off. Errors are EINVALID and say what is accepted.
func ParseGroupScope(v string) (GroupSelection, error) {
	v = strings.TrimSpace(v)
	kind, rest, hasColon := strings.Cut(v, ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	bad := func(format string, a ...any) (GroupSelection, error) {
		return GroupSelection{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid groups %q: "+format+
			" (use all, query:QUERY, emails:ADDRESS,... or none)", append([]any{v}, a...)...)
	}
	switch {
	case v == "" || (kind == GroupsNone && !hasColon):
		return GroupSelection{}, nil
	case kind == GroupsAll && !hasColon:
		return GroupSelection{Kind: GroupsAll}, nil
	case kind == GroupsQuery && hasColon:
		q := strings.TrimSpace(rest)
		switch {
		case q == "":
			return bad("the query is empty")
		case len(q) > maxGroupQuery:
			return bad("the query is longer than %d bytes", maxGroupQuery)
		case strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return bad("the query holds a control character")
		}
		return GroupSelection{Kind: GroupsQuery, Query: q}, nil
	case kind == GroupsEmails && hasColon:
		var emails []string
		for _, e := range strings.Split(rest, ",") {
			e = strings.ToLower(strings.TrimSpace(e))
			if e == "" {
				continue
			}
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e || a.Name != "" {
				return bad("%q is not an email address", e)
			}
			if !slices.Contains(emails, e) {
				emails = append(emails, e)
			}
		}
		if len(emails) == 0 {
			return bad("no group email given")
		}
		return GroupSelection{Kind: GroupsEmails, Emails: emails}, nil
	}
	return bad("unknown form")
}

// CheckGroupSettings checks the group settings together: flattening and
// the group user scope need groups on. Errors are EINVALID.
func CheckGroupSettings(s scimbridge.BridgeSettings) error {
	gs, err := ParseGroupScope(s.Groups)
	if err != nil {
		return err
	}
	if !gs.On() {
		switch {
		case s.UsersFromGroups:
			return scimbridge.Errorf(scimbridge.EINVALID, "--users-from-groups needs --groups: the group scope is the user scope")
		case s.FlattenGroups:
			return scimbridge.Errorf(scimbridge.EINVALID, "--flatten-groups needs --groups")
		}
	}
	return nil
}

// GroupsText describes the group settings for status displays.
func GroupsText(s scimbridge.BridgeSettings) string {
	gs, err := ParseGroupScope(s.Groups)
	if err != nil {
		return fmt.Sprintf("invalid (%s)", s.Groups)
	}
	if !gs.On() {
		return "off"
	}
	var out string
	switch gs.Kind {
	case GroupsAll:
		out = "every group"
	case GroupsQuery:
		out = "groups matching " + gs.Query
	case GroupsEmails:
		out = "groups " + strings.Join(gs.Emails, ", ")
	}
	if s.FlattenGroups {
		out += ", nested groups flattened"
	} else {
		out += ", direct members only"
	}
	if s.UsersFromGroups {
		out += ", users limited to their members"
	}
	return out
}

// CheckGroups lists one group to prove the credentials are granted
// GroupScope, for `bridge google set` with groups on. Its error carries
// Google's message and, for a missing scope, ErrGroupScopeMissing.
func (d *Directory) CheckGroups(ctx context.Context, customer string) error {
	if !d.groups {
		return fmt.Errorf("check google groups access: %w", ErrGroupsNotEnabled)
	}
	if customer == "" {
		customer = DefaultCustomer
	}
	call := d.groupSvc.Groups.List().Customer(customer).MaxResults(1).Fields("groups(id)")
	_, err := d.call(ctx, "list one group", func(ctx context.Context) error {
		_, err := call.Context(ctx).Do()
		return err
	})
	if err != nil {
		if scopeMissing(err) {
			return fmt.Errorf("check google groups access: %w: %w", ErrGroupScopeMissing, err)
		}
		return fmt.Errorf("check google groups access: %w", err)
	}
	return nil
}
