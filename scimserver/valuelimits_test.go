package scimserver

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
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
			scim.SchemaEnterprise, map[string]any{"department": randomText(r, 4096), "manager": randomText(r, 4096)})
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
		// A filter value longer than any stored key matches nothing.
		f := url.QueryEscape(fmt.Sprintf(`userName eq "%s" or externalId eq "%[1]s" or emails.value eq "%[1]s"`, strings.Repeat("q", 600)))
		if res := e.do(req{method: "GET", path: "/Users?filter=" + f}); res.status != http.StatusOK || res.json(t)["totalResults"] != 0.0 {
			t.Errorf("long filter values: %d %s", res.status, res.body)
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
