// Package bridge is the Google Workspace source of the directory: it reads
// the whole Google directory through the Admin SDK Directory API (with
// retries), maps each Google user onto the profile it wants, and applies the
// organization's scope and exclusions. Planning and applying belong to
// reconcile; this package never touches the store's SQL.
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/scimbridge/scimbridge"
)

// Endpoints are the daemon-level Google addresses: the Directory API base
// URL and the OAuth token URL. Organizations cannot change them.
type Endpoints struct {
	APIEndpoint string
	TokenURL    string
}

// DefaultEndpoints are Google's.
func DefaultEndpoints() Endpoints {
	return Endpoints{APIEndpoint: DefaultAPIEndpoint, TokenURL: DefaultTokenURL}
}

// DefaultCustomer lists the customer the credentials belong to.
const DefaultCustomer = "my_customer"

// PageSize is the users.list maxResults: Google's maximum.
const PageSize = 500

// listFields is the users.list fields mask: nextPageToken and every user
// field scope, exclusion and mapping read.
const listFields = "nextPageToken,users(id,primaryEmail,aliases,nonEditableAliases," +
	"name(givenName,familyName,fullName),suspended,archived,deletionTime,isGuestUser," +
	"orgUnitPath,organizations,externalIds,relations,languages)"

// Directory reads one organization's Google directory.
type Directory struct {
	svc    *admin.Service
	logger *slog.Logger
	clock  scimbridge.Clock
	retry  RetryPolicy
	stats  counters
	// limiter keeps calls within the quota; nil: no limit.
	limiter *QueryLimiter
	// groups is set by WithGroups; groupSvc then lists groups with a token
	// of the group scope alone.
	groups   bool
	groupSvc *admin.Service
}

// Option changes a Directory.
type Option func(*Directory)

// WithRetryPolicy replaces the default retry policy; zero fields keep their
// defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(d *Directory) { d.retry = p.withDefaults() }
}

// NewDirectory returns a Directory client for creds. httpClient is the base
// client (its Transport and Timeout are used for both the API and the token
// endpoint; nil means a default client with a 60 s timeout). Tokens come only
// from ep.TokenURL: credentials naming another token URL are refused.
func NewDirectory(ctx context.Context, creds Credentials, ep Endpoints, httpClient *http.Client,
	logger *slog.Logger, clock scimbridge.Clock, opts ...Option) (*Directory, error) {
	if err := checkURL(ep.APIEndpoint); err != nil {
		return nil, fmt.Errorf("new google directory: api endpoint: %w", err)
	}
	if err := checkURL(ep.TokenURL); err != nil {
		return nil, fmt.Errorf("new google directory: token url: %w", err)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	d := &Directory{
		logger: logger.With("component", "google", "credential_kind", creds.Kind),
		clock:  clock,
		retry:  DefaultRetryPolicy(),
	}
	d.limiter = NewQueryLimiter(DefaultQueriesPerMinute, clock, nil)
	for _, o := range opts {
		o(d)
	}
	svc, err := newService(ctx, creds, ep, httpClient, DirectoryScope)
	if err != nil {
		return nil, fmt.Errorf("new google directory: %w", err)
	}
	d.svc = svc
	if d.groups {
		if d.groupSvc, err = newService(ctx, creds, ep, httpClient, GroupScope); err != nil {
			return nil, fmt.Errorf("new google directory: %w", err)
		}
	}
	return d, nil
}

// newService returns an API client whose tokens carry scope alone.
func newService(ctx context.Context, creds Credentials, ep Endpoints, httpClient *http.Client, scope string) (*admin.Service, error) {
	// Token fetches outlive this call: keep ctx's values, not its deadline.
	ts, err := tokenSource(context.WithoutCancel(ctx), creds, ep.TokenURL, httpClient, scope)
	if err != nil {
		return nil, err
	}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// option.WithHTTPClient bypasses the library's own credentials, so the
	// OAuth transport lives inside this client.
	api := &http.Client{
		Transport: &oauth2.Transport{Source: ts, Base: base},
		Timeout:   httpClient.Timeout,
		// The bearer token is added on every hop: never follow a redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	endpoint := ep.APIEndpoint
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	return admin.NewService(ctx, option.WithHTTPClient(api), option.WithEndpoint(endpoint))
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("not set")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("parse %q: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// Listing is one complete users.list pass.
type Listing struct {
	Users   []GoogleUser
	Pages   int
	Retries int
}

// ListUsers lists every user of customer (DefaultCustomer when empty), every
// page, with projection=full and maxResults=500. With showDeleted it lists
// the recently deleted users instead, each marked Deleted. An incomplete
// listing is an error and returns no users; a *PermanentError in the chain
// means retrying will not help.
func (d *Directory) ListUsers(ctx context.Context, customer string, showDeleted bool) (Listing, error) {
	var users []GoogleUser
	l, err := d.EachPage(ctx, customer, showDeleted, func(page []GoogleUser) error {
		users = append(users, page...)
		return nil
	})
	if err != nil {
		return l, err
	}
	l.Users = users
	return l, nil
}

// EachPage lists like ListUsers, but hands each page to fn as soon as it
// is received, converted to GoogleUser, and keeps nothing: the library's
// structs of a page are dropped before the next is requested. The page
// slice is reused: fn must copy what it keeps. An error from fn stops the
// listing and is returned. The returned Listing has Pages and Retries, not
// Users.
func (d *Directory) EachPage(ctx context.Context, customer string, showDeleted bool, fn func([]GoogleUser) error) (Listing, error) {
	if customer == "" {
		customer = DefaultCustomer
	}
	call := d.svc.Users.List().Customer(customer).Projection("full").MaxResults(PageSize).
		Fields(googleapi.Field(listFields))
	if showDeleted {
		call.ShowDeleted("true")
	}
	var l Listing
	token := ""
	seen := map[string]bool{}
	start := d.clock()
	listed := 0
	buf := make([]GoogleUser, 0, PageSize)
	for {
		var page *admin.Users
		retries, err := d.call(ctx, fmt.Sprintf("page %d", l.Pages+1), func(ctx context.Context) error {
			var err error
			page, err = call.Context(ctx).PageToken(token).Do()
			return err
		})
		l.Retries += retries
		if err != nil {
			return Listing{Pages: l.Pages, Retries: l.Retries}, fmt.Errorf("list google users: %w", err)
		}
		l.Pages++
		d.stats.add(func(s *Stats) { s.Pages++ })
		buf = buf[:0]
		for _, u := range page.Users {
			if u != nil {
				buf = append(buf, fromAdmin(u, showDeleted))
			}
		}
		token = page.NextPageToken
		page = nil
		listed += len(buf)
		if err := fn(buf); err != nil {
			return Listing{Pages: l.Pages, Retries: l.Retries}, err
		}
		if token == "" {
			break
		}
		if seen[token] {
			return Listing{Pages: l.Pages, Retries: l.Retries}, errors.New("list google users: the API repeated a page token")
		}
		seen[token] = true
	}
	d.logger.Info("google users listed", "users", listed, "pages", l.Pages, "retries", l.Retries,
		"show_deleted", showDeleted, "duration", d.clock().Sub(start))
	return l, nil
}

// Check lists one user to prove the credentials work, for `bridge google
// set`. Its error carries Google's message (a *PermanentError when the
// credentials or their access are wrong).
func (d *Directory) Check(ctx context.Context, customer string) error {
	if customer == "" {
		customer = DefaultCustomer
	}
	call := d.svc.Users.List().Customer(customer).MaxResults(1).Fields("users(id)")
	_, err := d.call(ctx, "list one user", func(ctx context.Context) error {
		_, err := call.Context(ctx).Do()
		return err
	})
	if err != nil {
		return fmt.Errorf("check google credentials: %w", err)
	}
	return nil
}

// Stats returns a snapshot of the Directory's counters.
func (d *Directory) Stats() Stats { return d.stats.snapshot() }

// fromAdmin converts one listed user to its compact form.
func fromAdmin(u *admin.User, deleted bool) GoogleUser {
	g := GoogleUser{
		ID:           u.Id,
		PrimaryEmail: u.PrimaryEmail,
		Suspended:    u.Suspended,
		Archived:     u.Archived,
		Deleted:      deleted || u.DeletionTime != "",
		IsGuest:      u.IsGuestUser,
		OrgUnitPath:  u.OrgUnitPath,
	}
	if n := len(u.Aliases) + len(u.NonEditableAliases); n > 0 {
		g.Aliases = make([]string, 0, n)
		g.Aliases = append(append(g.Aliases, u.Aliases...), u.NonEditableAliases...)
	}
	if u.Name != nil {
		g.GivenName, g.FamilyName, g.FullName = u.Name.GivenName, u.Name.FamilyName, u.Name.FullName
	}
	g.Organizations = decodeList(u.Organizations, func(m map[string]any) Organization {
		return Organization{
			Title: str(m, "title"), Department: str(m, "department"), CostCenter: str(m, "costCenter"),
			Name: str(m, "name"), Description: str(m, "description"), Primary: boolean(m, "primary"),
			Type: str(m, "type"),
		}
	})
	g.ExternalIDs = decodeList(u.ExternalIds, func(m map[string]any) ExternalID {
		return ExternalID{Type: str(m, "type"), CustomType: str(m, "customType"), Value: str(m, "value")}
	})
	g.Relations = decodeList(u.Relations, func(m map[string]any) Relation {
		return Relation{Type: str(m, "type"), Value: str(m, "value")}
	})
	g.Languages = decodeList(u.Languages, func(m map[string]any) Language {
		return Language{LanguageCode: str(m, "languageCode"), CustomLanguage: str(m, "customLanguage"),
			Preference: str(m, "preference")}
	})
	return g
}

// decodeList turns one of the library's untyped list fields (decoded JSON:
// []any of map[string]any) into typed entries. Anything of another shape
// takes a JSON round trip into the same shape first.
func decodeList[T any](v any, conv func(map[string]any) T) []T {
	if v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil || json.Unmarshal(b, &items) != nil {
			return nil
		}
	}
	if len(items) == 0 {
		return nil
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, conv(m))
		}
	}
	return out
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return ""
}

func boolean(m map[string]any, k string) bool {
	switch v := m[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
