package scimserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestAuth_Refused(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		_, otherToken := e.newOrg("other")
		goodSecret := e.token[strings.LastIndexByte(e.token, '_')+1:]
		disabled, disabledToken := e.newOrg("disabled")
		if err := db.DeleteSCIMConfig(context.Background(), disabled.ID, scimbridge.Event{Time: e.srv.clock(), Source: scimbridge.EventAdmin}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			header string
			org    string // the organization the 401 is attributed to
		}{
			{"NoHeader", "", ""},
			{"Basic", "Basic dXNlcjpwYXNz", ""},
			{"EmptyBearer", "Bearer ", ""},
			{"NotOurFormat", "Bearer abc.def.ghi", ""},
			{"UnknownOrg", "Bearer scb_nosuchorg_" + goodSecret, ""},
			{"WrongSecret", "Bearer scb_acme_" + strings.Repeat("A", 43), e.org.ID},
			{"OtherOrgsSecret", "Bearer scb_acme_" + otherToken[len("scb_other_"):], e.org.ID},
			{"SCIMDisabled", "Bearer " + disabledToken, disabled.ID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.do(req{method: "GET", path: "/Users", token: "-", header: map[string]string{"Authorization": tt.header}})
				mustStatus(t, res, http.StatusUnauthorized)
				if res.header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
				}
				if got := res.json(t); got["status"] != "401" || got["detail"] != authFailed {
					t.Errorf("401 body %s", res.body)
				}
				ev := eventFor(t, e.events(tt.org), res.header.Get("X-Request-Id"))
				if ev.Status != 401 || ev.Error == "" || strings.Contains(ev.RequestBody+ev.Path, "Bearer") {
					t.Errorf("event %+v", ev)
				}
			})
		}
		t.Run("BearerSchemeAnyCase", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users", token: "-", header: map[string]string{"Authorization": "bearer " + e.token}})
			mustStatus(t, res, http.StatusOK)
		})
	})
}

// TestAuth_AttributedByPrefix: a refused token with an organization's
// scb_<slug>_ prefix is logged for that organization whatever the rest.
func TestAuth_AttributedByPrefix(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		for _, token := range []string{
			e.token[:len(e.token)-1], // one character short
			e.token + "x",            // one character long
			"scb_acme_not-a-secret_at all",
			"scb_acme_",
		} {
			res := e.do(req{method: "GET", path: "/Users", token: token})
			mustStatus(t, res, http.StatusUnauthorized)
			ev := eventFor(t, e.events(e.org.ID), res.header.Get("X-Request-Id"))
			if ev.Status != 401 || !strings.Contains(ev.Error, "malformed") || strings.Contains(ev.Path+ev.Error, token) {
				t.Errorf("event %+v", ev)
			}
		}
	})
}

func TestAuth_TokenRotation(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		old := e.token
		mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
		e.token = e.setToken(e.org)
		mustStatus(t, e.do(req{method: "GET", path: "/Users", token: old}), http.StatusUnauthorized)
		mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
	})
}

func TestAuth_TouchesLastUsed(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	mustStatus(t, e.do(req{method: "GET", path: "/ServiceProviderConfig"}), http.StatusOK)
	cfg, err := e.db.SCIMConfig(context.Background(), e.org.ID)
	if err != nil || cfg.LastUsedAt == nil {
		t.Fatalf("last_used_at %v, %v; want set", cfg.LastUsedAt, err)
	}
}

func TestAuth_TenantIsolation(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		_, tokenB := e.newOrg("beta")
		idA := e.createUser(user("shared@example.com", "title", "A's"))

		// The same userName is free in the other organization.
		resB := e.do(req{method: "POST", path: "/Users", body: user("shared@example.com", "title", "B's"), token: tokenB})
		mustStatus(t, resB, http.StatusCreated)
		idB := resB.json(t)["id"].(string)

		list := e.do(req{method: "GET", path: "/Users", token: tokenB})
		if names := userNames(t, list); len(names) != 1 || list.json(t)["Resources"].([]any)[0].(map[string]any)["id"] != idB {
			t.Fatalf("B lists %s", list.body)
		}
		for _, r := range []req{
			{method: "GET", path: "/Users/" + idA},
			{method: "PUT", path: "/Users/" + idA, body: user("shared@example.com", "title", "hijacked")},
			{method: "PATCH", path: "/Users/" + idA, body: patchBody(map[string]any{"op": "replace", "path": "title", "value": "hijacked"})},
			{method: "DELETE", path: "/Users/" + idA},
		} {
			r.token = tokenB
			mustStatus(t, e.do(r), http.StatusNotFound)
		}
		res := e.do(req{method: "GET", path: "/Users/" + idA})
		mustStatus(t, res, http.StatusOK)
		if got := res.json(t); got["title"] != "A's" || res.header.Get("ETag") != `W/"1"` {
			t.Fatalf("A's user changed: %s", res.body)
		}
	})
}

func TestAuth_RateLimit(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, storetest.OpenSQLite(t), func(c *Config) {
		c.Clock, c.RateLimit, c.RateBurst = clock.Now, 1, 2
	})
	_, tokenB := e.newOrg("beta")
	mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
	mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
	res := e.do(req{method: "GET", path: "/Users"})
	mustStatus(t, res, http.StatusTooManyRequests)
	if n, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After %q, want a positive integer", res.header.Get("Retry-After"))
	}
	if res.json(t)["status"] != "429" {
		t.Fatalf("429 body %s", res.body)
	}
	// Another token has its own bucket.
	mustStatus(t, e.do(req{method: "GET", path: "/Users", token: tokenB}), http.StatusOK)
	clock.Add(1e9)
	mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)

	t.Run("Reload", func(t *testing.T) {
		e.srv.SetRateLimit(0, 0)
		for range 5 {
			mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
		}
	})
}

func TestAuth_FailureLimit(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, storetest.OpenSQLite(t), func(c *Config) {
		c.Clock, c.AuthFailureLimit = clock.Now, 3
	})
	_, betaToken := e.newOrg("beta")
	bad := "scb_acme_" + strings.Repeat("x", 43)
	for range 3 {
		mustStatus(t, e.do(req{method: "GET", path: "/Users", token: bad}), http.StatusUnauthorized)
	}
	res := e.do(req{method: "GET", path: "/Users", token: bad})
	mustStatus(t, res, http.StatusTooManyRequests)
	if n, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
	}
	// The limit is per client IP and token prefix: another organization's
	// refused token from the same IP is still a 401.
	mustStatus(t, e.do(req{method: "GET", path: "/Users", token: "scb_beta_" + strings.Repeat("x", 43)}), http.StatusUnauthorized)
	// A valid token from the same IP is never blocked, for the same
	// organization or another (IdPs share cloud addresses).
	for range 25 {
		mustStatus(t, e.do(req{method: "GET", path: "/Users", token: bad}), http.StatusTooManyRequests)
		mustStatus(t, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
		mustStatus(t, e.do(req{method: "GET", path: "/Users", token: betaToken}), http.StatusOK)
	}
	clock.Add(61e9)
	mustStatus(t, e.do(req{method: "GET", path: "/Users", token: bad}), http.StatusUnauthorized)

	// The 429s of a refused token are attributed to its organization
	// (aggregated past ten a minute; stopping writes the aggregates).
	e.flush()
	e.stop()
	var n429 int
	for _, ev := range listEvents(t, e.db, e.org.ID, scimbridge.EventIdP) {
		if ev.Status == http.StatusTooManyRequests {
			n429 += ev.Count
		}
	}
	if n429 != 26 {
		t.Errorf("%d 429 requests attributed to acme, want 26", n429)
	}
}
