package scimserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// userNames returns the userNames of a ListResponse's resources.
func userNames(t *testing.T, res response) []string {
	t.Helper()
	var out []string
	for _, r := range res.json(t)["Resources"].([]any) {
		out = append(out, fmt.Sprint(r.(map[string]any)["userName"]))
	}
	return out
}

func TestListUsers(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		for _, n := range []string{"u3", "u1", "u5", "u2", "u4"} {
			e.createUser(user(n+"@example.com", "title", "t-"+n))
		}
		// Neither a detached SCIM profile nor a manual one is listed.
		gone := e.createUser(user("gone@example.com"))
		mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + gone}), http.StatusNoContent)
		p, err := reconcile.NewProfile(e.org.ID, scimbridge.SourceManual, reconcile.Normalize(scimbridge.DesiredProfile{
			Attributes: scimbridge.Attributes{UserName: "manual@example.com"}, Active: true}), uuid.NewString(), e.srv.clock())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyChange(context.Background(), scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event: scimbridge.Event{Time: p.CreatedAt, Source: scimbridge.EventAdmin}}); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name       string
			query      string
			total      int
			startIndex int
			names      []string // nil: not checked, only the count
			count      int
		}{
			{"All", "", 5, 1, nil, 5},
			{"Sorted", "sortBy=userName", 5, 1, []string{"u1@example.com", "u2@example.com", "u3@example.com", "u4@example.com", "u5@example.com"}, 5},
			{"Descending", "sortBy=userName&sortOrder=descending&count=2", 5, 1, []string{"u5@example.com", "u4@example.com"}, 2},
			{"Page", "sortBy=userName&startIndex=2&count=2", 5, 2, []string{"u2@example.com", "u3@example.com"}, 2},
			{"PastEnd", "startIndex=9&count=2", 5, 9, []string{}, 0},
			{"StartIndexBelowOne", "sortBy=userName&startIndex=-4&count=1", 5, 1, []string{"u1@example.com"}, 1},
			{"CountZero", "count=0", 5, 1, []string{}, 0},
			{"CountNegative", "count=-3", 5, 1, []string{}, 0},
			{"CountClamped", "count=5000", 5, 1, nil, 5},
			{"Filter", "filter=" + url.QueryEscape(`userName eq "U3@EXAMPLE.COM"`), 1, 1, []string{"u3@example.com"}, 1},
			{"FilterOr", "sortBy=userName&filter=" + url.QueryEscape(`title eq "t-u1" or title eq "t-u4"`), 2, 1, []string{"u1@example.com", "u4@example.com"}, 2},
			{"FilterNoMatch", "filter=" + url.QueryEscape(`userName eq "nobody"`), 0, 1, []string{}, 0},
			{"ParamNamesAnyCase", "COUNT=1&StartIndex=1", 5, 1, nil, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.do(req{method: "GET", path: "/Users?" + tt.query})
				mustStatus(t, res, http.StatusOK)
				got := res.json(t)
				if got["totalResults"] != float64(tt.total) || got["startIndex"] != float64(tt.startIndex) ||
					got["itemsPerPage"] != float64(tt.count) {
					t.Fatalf("list = %s", res.body)
				}
				names := userNames(t, res)
				if len(names) != tt.count || (tt.names != nil && fmt.Sprint(names) != fmt.Sprint(tt.names)) {
					t.Fatalf("resources %v, want %v (%d)", names, tt.names, tt.count)
				}
			})
		}

		t.Run("Attributes", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users?count=1&attributes=userName"})
			mustStatus(t, res, http.StatusOK)
			r := res.json(t)["Resources"].([]any)[0].(map[string]any)
			if r["userName"] == nil || r["id"] == nil || r["title"] != nil || r["emails"] != nil {
				t.Fatalf("attributes=userName gave %v", r)
			}
		})
		t.Run("ExcludedAttributes", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users?count=1&excludedAttributes=emails,title"})
			r := res.json(t)["Resources"].([]any)[0].(map[string]any)
			if r["userName"] == nil || r["title"] != nil || r["emails"] != nil {
				t.Fatalf("excludedAttributes gave %v", r)
			}
		})
		for _, path := range []string{"/Users/.search", "/.search"} {
			t.Run("Search"+path, func(t *testing.T) {
				res := e.do(req{method: "POST", path: path, body: map[string]any{
					"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
					"filter":     `userName sw "u"`,
					"sortBy":     "userName",
					"sortOrder":  "descending",
					"startIndex": 2,
					"count":      2,
					"attributes": []string{"userName"},
				}})
				mustStatus(t, res, http.StatusOK)
				if names := userNames(t, res); fmt.Sprint(names) != "[u4@example.com u3@example.com]" {
					t.Fatalf("search gave %v: %s", names, res.body)
				}
				if res.json(t)["totalResults"] != float64(5) {
					t.Fatalf("search total: %s", res.body)
				}
			})
		}
	})
}

func TestListUsers_Errors(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	tests := []struct {
		name, query, scimType string
	}{
		{"BadFilterSyntax", "filter=" + url.QueryEscape(`userName eq`), "invalidFilter"},
		{"UnknownAttribute", "filter=" + url.QueryEscape(`shoeSize eq "9"`), "invalidFilter"},
		{"CountNotANumber", "count=ten", "invalidValue"},
		{"StartIndexNotANumber", "startIndex=1.5", "invalidValue"},
		{"BadSortOrder", "sortOrder=sideways", "invalidValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users?" + tt.query})
			mustStatus(t, res, http.StatusBadRequest)
			if got := res.json(t); got["scimType"] != tt.scimType || got["status"] != "400" {
				t.Fatalf("body %s, want scimType %s", res.body, tt.scimType)
			}
		})
	}
}
