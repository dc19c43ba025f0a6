package scimserver

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// randomText returns n bytes of lower-case letters from r: values that
// PostgreSQL cannot compress below its index row maximum, as a hostile
// client would send.
func randomText(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// wantInvalidValue fails unless res is a 400 invalidValue whose detail
// names want; it returns the detail.
func wantInvalidValue(t *testing.T, res response, want string) string {
	t.Helper()
	mustStatus(t, res, http.StatusBadRequest)
	m := res.json(t)
	detail, _ := m["detail"].(string)
	if m["scimType"] != "invalidValue" || !strings.Contains(detail, want) {
		t.Fatalf("scimType %v detail %q, want invalidValue naming %q", m["scimType"], detail, want)
	}
	return detail
}

// TestValueLimits sends values over the limits by POST, PUT and PATCH and
// expects the same 400 invalidValue from both databases, with nothing
// stored; values at the limits are stored and read back exactly.
func TestValueLimits(t *testing.T) {
	emails := func(n, valueLen int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			v := fmt.Sprintf("e%02d@example.com", i)
			out[i] = map[string]any{"value": strings.Repeat("x", max(0, valueLen-len(v))) + v, "type": "work"}
		}
		return out
	}
	// phones and addresses pad the value and the locality to length.
	phones := func(n, valueLen int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			v := fmt.Sprintf("+1 555 01%02d", i)
			out[i] = map[string]any{"value": strings.Repeat("5", max(0, valueLen-len(v))) + v, "type": "work"}
		}
		return out
	}
	addresses := func(n, localityLen int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			v := fmt.Sprintf("L%02d", i)
			out[i] = map[string]any{"locality": strings.Repeat("l", max(0, localityLen-len(v))) + v, "country": "FR", "type": "work"}
		}
		return out
	}
	details := map[string]map[string]string{} // database -> case -> detail
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		got := map[string]string{}
		details[t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]] = got

		over := []struct {
			name string
			body map[string]any
			attr string
		}{
			{"UserName1025Bytes", user(strings.Repeat("u", 1013) + "@example.com"), "userName is 1025 bytes long; the limit is 1024 bytes"},
			{"UserName2700Chars", user(strings.Repeat("u", 2688) + "@example.com"), "userName"},
			{"ExternalID4000", user("a@example.com", "externalId", strings.Repeat("L", 4000)), "externalId is 4000 bytes long; the limit is 1024"},
			{"ExternalID40000", user("a@example.com", "externalId", strings.Repeat("L", 40000)), "externalId is 40000 bytes"},
			{"SecondEmail4000", user("a@example.com", "emails", []map[string]any{
				{"value": "a@example.com", "primary": true}, {"value": strings.Repeat("x", 3988) + "@example.com"}}), "emails[1].value is 4000 bytes"},
			{"TwentyOneEmails", user("a@example.com", "emails", emails(21, 0)), "emails has 21 entries; the limit is 20"},
			{"DisplayName4097", user("a@example.com", "displayName", strings.Repeat("d", 4097)), "displayName is 4097 bytes long; the limit is 4096 bytes"},
			{"Department4097", user("a@example.com", scim.SchemaEnterprise, map[string]any{"department": strings.Repeat("d", 4097)}), "department"},
			{"TwentyOnePhoneNumbers", user("a@example.com", "phoneNumbers", phones(21, 1)), "phoneNumbers has 21 entries; the limit is 20"},
			{"TwentyOneAddresses", user("a@example.com", "addresses", addresses(21, 1)), "addresses has 21 entries; the limit is 20"},
			{"PhoneValue4097", user("a@example.com", "phoneNumbers", phones(1, 4097)), "phoneNumbers[0].value is 4097 bytes long; the limit is 4096 bytes"},
			{"AddressLocality4097", user("a@example.com", "addresses", addresses(2, 4097)), "addresses[0].locality is 4097 bytes"},
		}
		for _, tt := range over {
			t.Run("POST/"+tt.name, func(t *testing.T) {
				got["POST/"+tt.name] = wantInvalidValue(t, e.do(req{method: "POST", path: "/Users", body: tt.body}), tt.attr)
			})
		}
		if res := e.do(req{method: "GET", path: "/Users?count=0"}); res.json(t)["totalResults"] != 0.0 {
			t.Fatalf("refused users were stored: %s", res.body)
		}

		// Values exactly at the limits are stored and round-trip.
		r := rand.New(rand.NewPCG(1, 2))
		at := user(randomText(r, 1012)+"@example.com",
			"externalId", randomText(r, 1024),
			"displayName", randomText(r, 4096),
			"emails", append([]map[string]any{{"value": randomText(r, 1012) + "@example.com", "primary": true,
				"type": randomText(r, 4096), "display": randomText(r, 4096)}}, emails(19, 1024)...),
			"name", map[string]any{"givenName": randomText(r, 4096), "familyName": randomText(r, 4096)},
			scim.SchemaEnterprise, map[string]any{"department": randomText(r, 4096), "manager": randomText(r, 4096)},
			"phoneNumbers", phones(20, 4096), "addresses", addresses(20, 4096))
		id := e.createUser(at)
		res := e.do(req{method: "GET", path: "/Users/" + id})
		mustStatus(t, res, http.StatusOK)
		m := res.json(t)
		for _, k := range []string{"userName", "externalId", "displayName"} {
			if m[k] != at[k] {
				t.Errorf("%s did not round-trip", k)
			}
		}
		if es := m["emails"].([]any); len(es) != 20 || es[0].(map[string]any)["value"] != at["emails"].([]map[string]any)[0]["value"] {
			t.Errorf("emails did not round-trip: %d entries", len(es))
		}
		for _, k := range []string{"phoneNumbers", "addresses"} {
			if err := matchValue(jsonRoundTrip(t, at[k]), m[k], k, nil); err != nil || len(m[k].([]any)) != 20 {
				t.Errorf("%s did not round-trip: %v", k, err)
			}
		}
		// A filter value longer than any stored key (filters stop at 2 KiB)
		// runs and matches nothing, by GET and by .search.
		for _, attr := range []string{"userName", "externalId", "emails.value", "emails[type eq \"work\"].value", "displayName"} {
			f := fmt.Sprintf(`%s eq "%s"`, attr, randomText(r, 2000))
			for _, res := range []response{
				e.do(req{method: "GET", path: "/Users?filter=" + url.QueryEscape(f)}),
				e.do(req{method: "POST", path: "/Users/.search", body: map[string]any{"schemas": []string{scim.SchemaSearchRequest}, "filter": f}}),
			} {
				if res.status != http.StatusOK || res.json(t)["totalResults"] != 0.0 {
					t.Errorf("filter on %s with a 2,000-byte value: %d %s", attr, res.status, res.body)
				}
			}
		}

		// PUT and PATCH refuse the same values and leave the user as it was.
		small := e.createUser(user("small@example.com", "externalId", "small"))
		edits := []struct {
			name string
			r    req
			attr string
		}{
			{"PUT/ExternalID40000", req{method: "PUT", body: user("small@example.com", "externalId", strings.Repeat("L", 40000))}, "externalId is 40000 bytes"},
			{"PUT/TwentyOneEmails", req{method: "PUT", body: user("small@example.com", "emails", emails(21, 0))}, "emails has 21 entries"},
			{"PATCH/DisplayName4097", req{method: "PATCH", body: patchBody(map[string]any{"op": "replace", "value": map[string]any{"displayName": strings.Repeat("d", 4097)}})},
				"displayName is 4097 bytes"},
			{"PATCH/UserName2700", req{method: "PATCH", body: patchBody(map[string]any{"op": "replace", "path": "userName", "value": strings.Repeat("u", 2700)})},
				"userName is 2700 bytes"},
			{"PATCH/SecondEmail4000", req{method: "PATCH", body: patchBody(map[string]any{"op": "add", "path": "emails",
				"value": []map[string]any{{"value": strings.Repeat("x", 3988) + "@example.com"}}})}, "emails[1].value is 4000 bytes"},
			{"PATCH/TwentyOnePhones", req{method: "PATCH", body: patchBody(map[string]any{"op": "add", "path": "phoneNumbers", "value": phones(21, 2)})},
				"phoneNumbers has 21 entries"},
			{"PATCH/WorkLocality4097", req{method: "PATCH", body: patchBody(map[string]any{"op": "add", "path": `addresses[type eq "work"].locality`,
				"value": strings.Repeat("l", 4097)})}, "addresses[0].locality is 4097 bytes"},
			{"PATCH/TwentyFirstEmail", req{method: "PATCH", body: patchBody(map[string]any{"op": "add", "path": "emails", "value": emails(20, 0)})},
				"emails has 21 entries"},
		}
		for _, tt := range edits {
			t.Run(tt.name, func(t *testing.T) {
				tt.r.path = "/Users/" + small
				got[tt.name] = wantInvalidValue(t, e.do(tt.r), tt.attr)
			})
		}
		res = e.do(req{method: "GET", path: "/Users/" + small})
		if m := res.json(t); m["externalId"] != "small" || m["displayName"] != nil || len(m["emails"].([]any)) != 1 ||
			res.header.Get("ETag") != `W/"1"` {
			t.Fatalf("refused edits changed the user: %s", res.body)
		}
	})
	if fmt.Sprint(details["SQLite"]) != fmt.Sprint(details["PostgreSQL"]) {
		t.Errorf("the databases answer differently:\nSQLite     %v\nPostgreSQL %v", details["SQLite"], details["PostgreSQL"])
	}
}

// TestListUsers_PageBytes fills the largest legal page with users near the
// value limits, so that the whole page would pass 8 MiB: the response stops
// before it, says how many resources it holds, and paging on with
// startIndex returns every user exactly once, on both databases. Each
// user names a manager that resolves to nobody, so the store lookups show
// how many resources were encoded: one past the cut at most, never the
// whole page.
func TestListUsers_PageBytes(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		counter := &lookupCounter{Store: db}
		e := newEnv(t, counter)
		const users = 1000
		seedLargeUsers(t, e, users)
		pages := map[string]func(startIndex int) response{
			"GET": func(startIndex int) response {
				return e.do(req{method: "GET", path: fmt.Sprintf("/Users?startIndex=%d", startIndex)})
			},
			"Search": func(startIndex int) response {
				return e.do(req{method: "POST", path: "/.search", body: map[string]any{
					"schemas": []string{scim.SchemaSearchRequest}, "filter": `userName sw "u"`, "startIndex": startIndex}})
			},
		}
		for name, get := range pages {
			t.Run(name, func(t *testing.T) {
				seen := map[string]int{}
				first := 0
				for start := 1; start <= users; {
					lookups := counter.n.Load()
					res := get(start)
					mustStatus(t, res, http.StatusOK)
					if len(res.body) > maxPageBytes {
						t.Fatalf("page at %d is %d bytes, over %d", start, len(res.body), maxPageBytes)
					}
					m := res.json(t)
					items := int(m["itemsPerPage"].(float64))
					rs := m["Resources"].([]any)
					if m["totalResults"] != float64(users) || m["startIndex"] != float64(start) || items != len(rs) || items == 0 {
						t.Fatalf("page at %d: totalResults %v startIndex %v itemsPerPage %d with %d resources",
							start, m["totalResults"], m["startIndex"], items, len(rs))
					}
					if first == 0 {
						first = items
						if n := counter.n.Load() - lookups; n < int64(items) || n > int64(items)+1 {
							t.Fatalf("%d resources encoded for a page of %d", n, items)
						}
					}
					for _, x := range rs {
						seen[x.(map[string]any)["id"].(string)]++
					}
					start += items
				}
				if first >= users {
					t.Fatalf("the first page holds all %d users", first)
				}
				if len(seen) != users {
					t.Fatalf("%d distinct users over the pages, want %d", len(seen), users)
				}
				for id, n := range seen {
					if n != 1 {
						t.Fatalf("user %s listed %d times", id, n)
					}
				}
				t.Logf("first page: %d of %d users", first, users)
			})
		}
	})
}

// seedLargeUsers stores n SCIM users of about 10 KB each (random text
// near the limits) in transactions of 500, rather than n POSTs: the
// callers are about listing them.
func seedLargeUsers(t testing.TB, e *testEnv, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	var batch []scimbridge.ChangeEvent
	for i := range n {
		name := fmt.Sprintf("u%04d@example.com", i)
		p, err := reconcile.NewProfile(e.org.ID, scimbridge.SourceSCIM, reconcile.Normalize(scimbridge.DesiredProfile{Active: true,
			Attributes: scimbridge.Attributes{UserName: name, DisplayName: randomText(r, 4096), Title: randomText(r, 4096),
				NickName: randomText(r, 2000), Emails: []scimbridge.Email{{Value: name, Type: "work"}}, Manager: "nobody-" + name}}),
			uuid.NewString(), e.srv.clock())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}})
		if len(batch) == 500 || i == n-1 {
			if err := e.db.ApplyChanges(context.Background(), batch, nil); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
}

// BenchmarkListUsers_LargePage measures one GET /Users of the largest page
// (1,000 users of about 10 KB, cut at 8 MiB) over HTTP on SQLite; B/op is
// what a page costs the server and the client together.
func BenchmarkListUsers_LargePage(b *testing.B) {
	e := newEnv(b, storetest.OpenSQLite(b))
	seedLargeUsers(b, e, 1000)
	b.ReportAllocs()
	for b.Loop() {
		mustStatus(b, e.do(req{method: "GET", path: "/Users"}), http.StatusOK)
	}
}

// lookupCounter counts the store lookups by externalId, which the manager
// resolver makes for each manager it has not seen.
type lookupCounter struct {
	scimbridge.Store
	n atomic.Int64
}

func (c *lookupCounter) LookupProfiles(ctx context.Context, orgID string, l scimbridge.ProfileLookup) ([]scimbridge.Profile, error) {
	if l.ExternalID != "" {
		c.n.Add(1)
	}
	return c.Store.LookupProfiles(ctx, orgID, l)
}

// jsonRoundTrip returns v as encoding/json decodes it back into an any.
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
