package bridge

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/api/googleapi"
)

// GroupPageSize is the groups.list and members.list maxResults: Google's
// maximum.
const GroupPageSize = 200

// groupFields and memberFields are the fields masks of groups.list and
// members.list: nextPageToken and what a group sync reads.
const (
	groupFields  = "nextPageToken,groups(id,email,name,description,aliases,nonEditableAliases,directMembersCount)"
	memberFields = "nextPageToken,members(id,email,role,type,status)"
)

// Google's member types.
const (
	MemberUser     = "USER"
	MemberGroup    = "GROUP"
	MemberCustomer = "CUSTOMER"
	MemberExternal = "EXTERNAL"
)

// ErrGroupScopeMissing is in the chain of a group listing's error when the
// credentials are not granted GroupScope (domain-wide delegation without it,
// or an OAuth consent without it): users still list, groups need attention.
var ErrGroupScopeMissing = errors.New("google: the credentials are not granted the scope " + GroupScope)

// ErrGroupsNotEnabled is returned by the group listings of a Directory made
// without WithGroups: it never asks for the group scope.
var ErrGroupsNotEnabled = errors.New("google: groups are not enabled for this directory client")

// WithGroups lets the Directory list groups and members. It asks for
// GroupScope in a token of its own, so credentials without it still list
// users.
func WithGroups() Option {
	return func(d *Directory) { d.groups = true }
}

// GoogleGroup is one listed Google group.
type GoogleGroup struct {
	ID                 string
	Email              string
	Name               string
	Description        string
	Aliases            []string // aliases and non-editable aliases
	DirectMembersCount int64
}

// GoogleMember is one direct member of a Google group.
type GoogleMember struct {
	ID     string
	Email  string // empty for a CUSTOMER member
	Role   string // OWNER, MANAGER, MEMBER
	Type   string // MemberUser, MemberGroup, MemberCustomer, MemberExternal
	Status string // ACTIVE, SUSPENDED, ...
}

// GroupQuery says which groups ListGroups lists: every group of Customer
// (DefaultCustomer when empty), or those matching Query, Google's group
// search ("email:sales*", "name='Sales Team'", clauses ANDed).
type GroupQuery struct {
	Customer string
	Query    string
}

// ListGroups lists the groups q selects, every page, handing each page to
// fn as soon as it is received; the page slice is reused, so fn copies what
// it keeps, and an error from fn stops the listing. A failed page (after
// retries) fails the listing: callers must not use a partial one. The
// Listing has Pages and Retries.
func (d *Directory) ListGroups(ctx context.Context, q GroupQuery, fn func([]GoogleGroup) error) (Listing, error) {
	if !d.groups {
		return Listing{}, fmt.Errorf("list google groups: %w", ErrGroupsNotEnabled)
	}
	customer := q.Customer
	if customer == "" {
		customer = DefaultCustomer
	}
	call := d.groupSvc.Groups.List().Customer(customer).MaxResults(GroupPageSize).Fields(googleapi.Field(groupFields))
	if q.Query != "" {
		call.Query(q.Query)
	}
	buf := make([]GoogleGroup, 0, GroupPageSize)
	l, err := d.pages(ctx, "list google groups", func(ctx context.Context, token string) (string, error) {
		page, err := call.Context(ctx).PageToken(token).Do()
		if err != nil {
			return "", err
		}
		buf = buf[:0]
		for _, g := range page.Groups {
			if g == nil {
				continue
			}
			gg := GoogleGroup{ID: g.Id, Email: g.Email, Name: g.Name, Description: g.Description,
				DirectMembersCount: g.DirectMembersCount}
			if n := len(g.Aliases) + len(g.NonEditableAliases); n > 0 {
				gg.Aliases = append(append(make([]string, 0, n), g.Aliases...), g.NonEditableAliases...)
			}
			buf = append(buf, gg)
		}
		return page.NextPageToken, nil
	}, func() error { return fn(buf) })
	if err == nil {
		d.logger.Info("google groups listed", "pages", l.Pages, "retries", l.Retries, "query", q.Query)
	}
	return l, err
}

// ListMembers lists the direct members of the group groupKey (its id,
// email or alias), every page, as ListGroups does. Nested groups are
// members of type MemberGroup; their own members are not expanded.
func (d *Directory) ListMembers(ctx context.Context, groupKey string, fn func([]GoogleMember) error) (Listing, error) {
	if !d.groups {
		return Listing{}, fmt.Errorf("list google group members: %w", ErrGroupsNotEnabled)
	}
	call := d.groupSvc.Members.List(groupKey).MaxResults(GroupPageSize).Fields(googleapi.Field(memberFields))
	buf := make([]GoogleMember, 0, GroupPageSize)
	return d.pages(ctx, "list google group members "+groupKey, func(ctx context.Context, token string) (string, error) {
		page, err := call.Context(ctx).PageToken(token).Do()
		if err != nil {
			return "", err
		}
		buf = buf[:0]
		for _, m := range page.Members {
			if m != nil {
				buf = append(buf, GoogleMember{ID: m.Id, Email: m.Email, Role: m.Role, Type: m.Type, Status: m.Status})
			}
		}
		return page.NextPageToken, nil
	}, func() error { return fn(buf) })
}

// pages runs fetch for every page (each with retries, within the budget),
// then deliver, until fetch returns no next token. A missing group scope is
// reported as ErrGroupScopeMissing.
func (d *Directory) pages(ctx context.Context, what string, fetch func(ctx context.Context, token string) (string, error),
	deliver func() error) (Listing, error) {
	var l Listing
	token := ""
	seen := map[string]bool{}
	for {
		var next string
		retries, err := d.call(ctx, fmt.Sprintf("page %d", l.Pages+1), func(ctx context.Context) error {
			var err error
			next, err = fetch(ctx, token)
			return err
		})
		l.Retries += retries
		if err != nil {
			if scopeMissing(err) {
				return l, fmt.Errorf("%s: %w: %w", what, ErrGroupScopeMissing, err)
			}
			return l, fmt.Errorf("%s: %w", what, err)
		}
		l.Pages++
		d.stats.add(func(s *Stats) { s.Pages++ })
		if err := deliver(); err != nil {
			return l, err
		}
		if next == "" {
			return l, nil
		}
		if seen[next] {
			return l, fmt.Errorf("%s: the API repeated a page token", what)
		}
		seen[next] = true
		token = next
	}
}

// scopeMissing reports whether err is Google refusing the group scope: the
// API's 403 insufficientPermissions (a token without the scope), or the
// token endpoint's unauthorized_client / invalid_scope / access_denied for a
// token asking for it alone (domain-wide delegation not granting it).
func scopeMissing(err error) bool {
	var pe *PermanentError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Reason {
	case "insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "unauthorized_client", "invalid_scope", "access_denied":
		return true
	}
	return false
}
