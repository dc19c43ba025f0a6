package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// collectGroups lists every group q selects.
func collectGroups(t *testing.T, d *bridge.Directory, q bridge.GroupQuery) ([]bridge.GoogleGroup, bridge.Listing, error) {
	t.Helper()
	var out []bridge.GoogleGroup
	l, err := d.ListGroups(context.Background(), q, func(page []bridge.GoogleGroup) error {
		out = append(out, page...)
		return nil
	})
	return out, l, err
}

// collectMembers lists every direct member of key.
func collectMembers(t *testing.T, d *bridge.Directory, key string) ([]bridge.GoogleMember, bridge.Listing, error) {
	t.Helper()
	var out []bridge.GoogleMember
	l, err := d.ListMembers(context.Background(), key, func(page []bridge.GoogleMember) error {
		out = append(out, page...)
		return nil
	})
	return out, l, err
}

func TestDirectory_ListGroups(t *testing.T) {
	users := fakegoogle.GenerateUsers(400, 5)

	t.Run("Paging", func(t *testing.T) {
		e := newFakeEnv(t)
		gen := fakegoogle.GenerateGroups(users, 1234, 3, 9)
		e.fake.SetGroups(gen)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		groups, l, err := collectGroups(t, d, bridge.GroupQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1234 || l.Pages != 7 || e.fake.GroupRequests() != 7 {
			t.Fatalf("%d groups in %d pages (%d requests), want 1234 in 7", len(groups), l.Pages, e.fake.GroupRequests())
		}
		for i, g := range groups {
			want := gen.Group(i)
			if g.ID != want.Id || g.Email != want.Email || g.Name != want.Name || g.DirectMembersCount != want.DirectMembersCount {
				t.Fatalf("group %d = %+v, want %s %s %q %d", i, g, want.Id, want.Email, want.Name, want.DirectMembersCount)
			}
		}
		if len(groups[0].Aliases) != 1 {
			t.Fatalf("group 0 aliases = %v, want the generated alias", groups[0].Aliases)
		}
		q := e.fake.LastGroupQuery()
		if q.Get("customer") != "my_customer" || q.Get("maxResults") != "200" || !strings.Contains(q.Get("fields"), "nextPageToken") {
			t.Fatalf("groups.list query %v", q)
		}
	})

	t.Run("Query", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetGroups(fakegoogle.GenerateGroups(users, 300, 2, 1))
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		groups, _, err := collectGroups(t, d, bridge.GroupQuery{Customer: fakegoogle.DefaultCustomerID, Query: "email:platform-*"})
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 25 {
			t.Fatalf("%d platform groups, want 25 (every 12th of 300)", len(groups))
		}
		for _, g := range groups {
			if !strings.HasPrefix(g.Email, "platform-") {
				t.Fatalf("query listed %s", g.Email)
			}
		}
		if q := e.fake.LastGroupQuery(); q.Get("query") != "email:platform-*" || q.Get("customer") != fakegoogle.DefaultCustomerID {
			t.Fatalf("groups.list query %v", q)
		}
	})

	t.Run("ThousandMembers", func(t *testing.T) {
		e := newFakeEnv(t)
		members := make([]*admin.Member, 1000)
		for i := range members {
			u := users[i%len(users)]
			members[i] = &admin.Member{Kind: "admin#directory#member", Id: fmt.Sprintf("%s-%d", u.Id, i), Email: u.PrimaryEmail,
				Role: "MEMBER", Type: "USER", Status: "ACTIVE"}
		}
		e.fake.SetGroups(&fakegoogle.StaticGroups{
			Groups:  []*admin.Group{{Id: "00big", Email: "big@example.com", Name: "Big"}},
			Members: [][]*admin.Member{members},
		})
		d := e.directory(t, e.oauth(t), bridge.WithGroups())
		got, l, err := collectMembers(t, d, "big@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 || l.Pages != 5 {
			t.Fatalf("%d members in %d pages, want 1000 in 5", len(got), l.Pages)
		}
		for i, m := range got {
			if m.ID != members[i].Id || m.Email != members[i].Email {
				t.Fatalf("member %d = %+v", i, m)
			}
		}
		if q := e.fake.LastGroupQuery(); q.Get("maxResults") != "200" || q.Get("includeDerivedMembership") != "" {
			t.Fatalf("members.list query %v", q)
		}
	})

	t.Run("MemberTypesAndNesting", func(t *testing.T) {
		e := newFakeEnv(t)
		gen := fakegoogle.GenerateGroups(users, 100, 40, 2)
		e.fake.SetGroups(gen)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		types := map[string]int{}
		suspended := 0
		for i := 0; i < gen.Len(); i++ {
			got, _, err := collectMembers(t, d, fakegoogle.GeneratedGroupID(i))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != gen.MemberCount(i) {
				t.Fatalf("group %d: %d members, want %d", i, len(got), gen.MemberCount(i))
			}
			for j, m := range got {
				want := gen.Member(i, j)
				if m.ID != want.Id || m.Type != want.Type || m.Role != want.Role || m.Status != want.Status || m.Email != want.Email {
					t.Fatalf("group %d member %d = %+v, want %+v", i, j, m, want)
				}
				types[m.Type]++
				if m.Type == bridge.MemberGroup && m.Email != "" {
					// A nested group is a GROUP member naming that group, not its members.
					if !strings.HasSuffix(m.Email, "@example.com") || m.ID[:2] != "03" {
						t.Fatalf("nested group member %+v", m)
					}
				}
				if m.Status == "SUSPENDED" {
					suspended++
				}
			}
		}
		for _, typ := range []string{bridge.MemberUser, bridge.MemberGroup, bridge.MemberExternal, bridge.MemberCustomer} {
			if types[typ] == 0 {
				t.Errorf("no %s members: %v", typ, types)
			}
		}
		if suspended == 0 {
			t.Error("no suspended members")
		}
	})
}

func TestDirectory_GroupScope(t *testing.T) {
	ctx := context.Background()
	users := fakegoogle.GenerateUsers(5, 1)
	groups := fakegoogle.GenerateGroups(users, 3, 2, 1)

	t.Run("DelegationWithoutGroupScope", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(users)
		e.fake.SetGroups(groups)
		e.fake.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		_, _, err := collectGroups(t, d, bridge.GroupQuery{})
		if !errors.Is(err, bridge.ErrGroupScopeMissing) || !bridge.IsPermanent(err) {
			t.Fatalf("groups without the delegated scope: %v, want ErrGroupScopeMissing", err)
		}
		if len(e.slept()) != 0 {
			t.Fatalf("a missing scope was retried: %v", e.slept())
		}
		if l, err := d.ListUsers(ctx, "", false); err != nil || len(l.Users) != 5 {
			t.Fatalf("users must still list: %d users, %v", len(l.Users), err)
		}
	})

	t.Run("RefreshTokenWithoutGroupScope", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(users)
		e.fake.SetGroups(groups)
		e.fake.SetRefreshTokenScopes(fakegoogle.DirectoryReadonlyScope)
		d := e.directory(t, e.oauth(t), bridge.WithGroups())
		_, _, err := collectMembers(t, d, fakegoogle.GeneratedGroupID(0))
		var pe *bridge.PermanentError
		if !errors.Is(err, bridge.ErrGroupScopeMissing) || !errors.As(err, &pe) || pe.Status != http.StatusForbidden {
			t.Fatalf("members with a users-only token: %v, want ErrGroupScopeMissing from a 403", err)
		}
		if l, err := d.ListUsers(ctx, "", false); err != nil || len(l.Users) != 5 {
			t.Fatalf("users must still list: %d users, %v", len(l.Users), err)
		}
	})

	t.Run("OtherForbiddenIsNotTheScope", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetGroups(groups)
		e.fake.FailPage(1, http.StatusForbidden, "forbidden", -1)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		_, _, err := collectGroups(t, d, bridge.GroupQuery{})
		if !bridge.IsPermanent(err) || errors.Is(err, bridge.ErrGroupScopeMissing) {
			t.Fatalf("403 forbidden: %v, want a permanent error other than the scope", err)
		}
	})

	t.Run("UsersOnlyByDefault", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(users)
		e.fake.SetGroups(groups)
		// Delegation grants the user scope alone: a client asking for
		// more would get no token at all.
		e.fake.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope)
		d := e.directory(t, e.serviceAccount(t))
		if _, err := d.ListUsers(ctx, "", false); err != nil {
			t.Fatal(err)
		}
		_, _, err := collectGroups(t, d, bridge.GroupQuery{})
		if !errors.Is(err, bridge.ErrGroupsNotEnabled) {
			t.Fatalf("groups without WithGroups: %v", err)
		}
		if e.fake.GroupRequests() != 0 || e.fake.TokenRequests() != 1 {
			t.Fatalf("%d group requests, %d token requests; want 0 and 1", e.fake.GroupRequests(), e.fake.TokenRequests())
		}
	})
}

func TestDirectory_GroupRetries(t *testing.T) {
	users := fakegoogle.GenerateUsers(50, 1)

	t.Run("TransientFailuresRetried", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetGroups(fakegoogle.GenerateGroups(users, 450, 2, 1))
		e.fake.FailPageWith(1, fakegoogle.Failure{Status: http.StatusForbidden, Reason: "userRateLimitExceeded", RetryAfter: "7", Times: 1})
		e.fake.FailPage(2, http.StatusServiceUnavailable, "backendError", 2)
		e.fake.FailPage(3, http.StatusTooManyRequests, "rateLimitExceeded", 1)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		groups, l, err := collectGroups(t, d, bridge.GroupQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 450 || l.Pages != 3 || l.Retries != 4 {
			t.Fatalf("%d groups, %d pages, %d retries; want 450, 3, 4", len(groups), l.Pages, l.Retries)
		}
		if s := e.slept(); len(s) != 4 || s[0] < 7*time.Second {
			t.Fatalf("slept %v: want 4 backoffs, the first honouring Retry-After 7", s)
		}
		st := d.Stats()
		if st.RetriesByReason["userRateLimitExceeded"] != 1 || st.RetriesByReason["backendError"] != 2 {
			t.Fatalf("retries by reason %v", st.RetriesByReason)
		}
	})

	t.Run("FailedMembersPageFailsTheListing", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetGroups(fakegoogle.GenerateGroups(users, 1, 500, 1))
		e.fake.FailPage(2, http.StatusInternalServerError, "backendError", -1)
		d := e.directory(t, e.serviceAccount(t), bridge.WithGroups())
		var delivered int
		l, err := d.ListMembers(context.Background(), fakegoogle.GeneratedGroupID(0), func(page []bridge.GoogleMember) error {
			delivered += len(page)
			return nil
		})
		if err == nil || bridge.IsPermanent(err) || !strings.Contains(err.Error(), "gave up after 6 attempts") {
			t.Fatalf("err = %v, want giving up after retries", err)
		}
		if l.Pages != 1 || delivered != 200 || l.Retries != 5 {
			t.Fatalf("%d pages, %d members, %d retries; want the first page only and 5 retries of the second", l.Pages, delivered, l.Retries)
		}
	})
}

// fakeClock is a clock that moves only when something sleeps on it.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	return ctx.Err()
}

func TestDirectory_QueryBudget(t *testing.T) {
	const budget = 50
	users := fakegoogle.GenerateUsers(20, 1)
	setup := func(t *testing.T) (*fakeEnv, *fakeClock) {
		e := newFakeEnv(t)
		clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
		e.fake.SetClock(clock.Now)
		e.fake.SetQuota(budget)
		e.fake.SetGroups(fakegoogle.GenerateGroups(users, 130, 3, 1))
		return e, clock
	}
	listAll := func(d *bridge.Directory) error {
		for i := 0; i < 130; i++ {
			if _, err := d.ListMembers(context.Background(), fakegoogle.GeneratedGroupID(i), func([]bridge.GoogleMember) error { return nil }); err != nil {
				return err
			}
		}
		return nil
	}

	t.Run("LimiterKeepsWithinTheQuota", func(t *testing.T) {
		e, clock := setup(t)
		lim := bridge.NewQueryLimiter(budget, clock.Now, clock.Sleep)
		d, err := bridge.NewDirectory(context.Background(), e.serviceAccount(t), e.ep, nil, slog.New(slog.DiscardHandler),
			clock.Now, bridge.WithGroups(), bridge.WithRetryPolicy(e.retryPolicy()), bridge.WithQueryLimiter(lim))
		if err != nil {
			t.Fatal(err)
		}
		if err := listAll(d); err != nil {
			t.Fatal(err)
		}
		if n := e.fake.RateLimited(); n != 0 || len(e.slept()) != 0 {
			t.Fatalf("the fake refused %d calls, %d retries: the limiter let the burst through", n, len(e.slept()))
		}
		// 130 calls at 50 a minute: two waits for the window (61 s each).
		if lim.Waits() == 0 || clock.slept < 2*time.Minute {
			t.Fatalf("waits %d, waited %v: want the calls spread over more than two minutes", lim.Waits(), clock.slept)
		}
	})

	t.Run("WithoutLimiterTheFakeRefuses", func(t *testing.T) {
		e, clock := setup(t)
		d, err := bridge.NewDirectory(context.Background(), e.serviceAccount(t), e.ep, nil, slog.New(slog.DiscardHandler),
			clock.Now, bridge.WithGroups(), bridge.WithRetryPolicy(e.retryPolicy()), bridge.WithQueryLimiter(nil))
		if err != nil {
			t.Fatal(err)
		}
		err = listAll(d)
		if err == nil || e.fake.RateLimited() == 0 || !strings.Contains(err.Error(), "userRateLimitExceeded") {
			t.Fatalf("err = %v, %d refused: want the fake's quota to stop an unlimited burst", err, e.fake.RateLimited())
		}
	})
}

func TestQueryLimiter(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	start := clock.Now()
	l := bridge.NewQueryLimiter(3, clock.Now, clock.Sleep)
	ctx := context.Background()
	var at []time.Duration
	for i := 0; i < 7; i++ {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		at = append(at, clock.Now().Sub(start))
		clock.Sleep(ctx, time.Second) // the call takes a second
	}
	// A burst of 3, then each call when the one three before it is more
	// than a minute (61 s) old.
	want := []time.Duration{0, 1, 2, 61, 62, 63, 122}
	for i := range want {
		if at[i] != want[i]*time.Second {
			t.Fatalf("calls at %v, want %v seconds", at, want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on a cancelled context: %v", err)
	}
}
