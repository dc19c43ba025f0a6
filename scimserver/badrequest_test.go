package scimserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// TestBadRequests sends client mistakes of every kind: each must be a 4xx
// with a SCIM error body, never a 500, and never echo internal text.
func TestBadRequests(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		id := e.createUser(user("nia@example.com"))
		u := "/Users/" + id
		patch := func(ops string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
		}
		tests := []struct {
			name   string
			r      req
			status int
		}{
			{"PostEmptyBody", req{method: "POST", path: "/Users", body: ""}, 400},
			{"PostNull", req{method: "POST", path: "/Users", body: "null"}, 400},
			{"PostArray", req{method: "POST", path: "/Users", body: "[]"}, 400},
			{"PostString", req{method: "POST", path: "/Users", body: `"x"`}, 400},
			{"PostTruncated", req{method: "POST", path: "/Users", body: `{"userName":"a@example.com"`}, 400},
			{"PostTrailingGarbage", req{method: "POST", path: "/Users", body: `{"userName":"a@example.com"} x`}, 400},
			{"PostNoUserName", req{method: "POST", path: "/Users", body: `{"emails":[{"value":"a@example.com"}]}`}, 400},
			{"PostUserNameNumber", req{method: "POST", path: "/Users", body: `{"userName":42}`}, 400},
			{"PostUserNameNul", req{method: "POST", path: "/Users", body: `{"userName":"a\u0000b@example.com"}`}, 400},
			{"PostNoEmailAnywhere", req{method: "POST", path: "/Users", body: `{"userName":"just-a-name"}`}, 400},
			{"PostEmailsNotList", req{method: "POST", path: "/Users", body: `{"userName":"a@example.com","emails":"a@example.com"}`}, 400},
			{"PostActiveNotBool", req{method: "POST", path: "/Users", body: `{"userName":"a@example.com","active":"maybe"}`}, 400},
			{"PostNameNotObject", req{method: "POST", path: "/Users", body: `{"userName":"a@example.com","name":[1]}`}, 400},
			{"PostInvalidUTF8", req{method: "POST", path: "/Users", body: "{\"userName\":\"a\xff@example.com\"}"}, 400},
			{"PostTooDeep", req{method: "POST", path: "/Users", body: strings.Repeat("[", 33) + strings.Repeat("]", 33)}, 400},
			{"PostTooLarge", req{method: "POST", path: "/Users", body: strings.Repeat(" ", maxBodyBytes+1)}, 413},
			{"PostFormEncoded", req{method: "POST", path: "/Users", body: "userName=a", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415},
			{"PostBadContentType", req{method: "POST", path: "/Users", body: `{}`, header: map[string]string{"Content-Type": ";;;"}}, 415},
			{"PutNoBody", req{method: "PUT", path: u}, 400},
			{"PutNoUserName", req{method: "PUT", path: u, body: `{"displayName":"x"}`}, 400},
			{"PutBadJSON", req{method: "PUT", path: u, body: `{`}, 400},
			{"PatchNoOperations", req{method: "PATCH", path: u, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`}, 400},
			{"PatchOperationsNotList", req{method: "PATCH", path: u, body: patch(`{"op":"replace"}`)}, 400},
			{"PatchUnknownOp", req{method: "PATCH", path: u, body: patch(`[{"op":"explode","path":"title","value":"x"}]`)}, 400},
			{"PatchBadPath", req{method: "PATCH", path: u, body: patch(`[{"op":"replace","path":"emails[type eq","value":"x"}]`)}, 400},
			{"PatchUnknownAttribute", req{method: "PATCH", path: u, body: patch(`[{"op":"replace","path":"shoeSize","value":"9"}]`)}, 400},
			{"PatchRemoveUserName", req{method: "PATCH", path: u, body: patch(`[{"op":"remove","path":"userName"}]`)}, 400},
			{"PatchValueWrongType", req{method: "PATCH", path: u, body: patch(`[{"op":"replace","path":"active","value":{"x":1}}]`)}, 400},
			{"PatchTooMany", req{method: "PATCH", path: u, body: patch("[" + strings.TrimSuffix(strings.Repeat(`{"op":"replace","path":"title","value":"x"},`, 1001), ",") + "]")}, 400},
			{"PatchNulValue", req{method: "PATCH", path: u, body: patch(`[{"op":"replace","path":"title","value":"a\u0000"}]`)}, 400},
			{"FilterGarbage", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(`)))(((`)}, 400},
			{"FilterUnknownOp", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName like "a"`)}, 400},
			{"FilterTooLong", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq "`+strings.Repeat("a", 3000)+`"`)}, 400},
			{"FilterTooManyComparisons", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(strings.TrimSuffix(strings.Repeat(`title eq "x" or `, 60), " or "))}, 400},
			{"FilterTooDeep", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(strings.Repeat("(", 12)+`title eq "x"`+strings.Repeat(")", 12))}, 400},
			{"FilterBadID", req{method: "GET", path: "/Users?filter=" + url.QueryEscape(`id eq "not-a-uuid"`)}, 200},
			{"SortByUnknown", req{method: "GET", path: "/Users?sortBy=shoeSize"}, 400},
			{"CountHuge", req{method: "GET", path: "/Users?count=99999999999999999999999"}, 400},
			{"SearchNotObject", req{method: "POST", path: "/Users/.search", body: `[1]`}, 400},
			{"SearchCountString", req{method: "POST", path: "/Users/.search", body: `{"count":"ten"}`}, 400},
			{"SearchBadFilter", req{method: "POST", path: "/.search", body: `{"filter":"userName eq"}`}, 400},
			{"MethodNotAllowed", req{method: "DELETE", path: "/Users"}, 405},
			{"MethodNotAllowedDiscovery", req{method: "POST", path: "/Schemas", body: `{}`}, 405},
			{"UnknownPath", req{method: "GET", path: "/Users/" + id + "/extra"}, 404},
			{"Groups", req{method: "PATCH", path: "/Groups/123", body: patch(`[]`)}, 404},
			{"NulInPath", req{method: "GET", path: "/Users/%00"}, 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.do(tt.r)
				mustStatus(t, res, tt.status)
				if tt.status == 200 {
					return
				}
				got := res.json(t)
				if got["status"] != strconv.Itoa(tt.status) || res.header.Get("Content-Type") != "application/scim+json" {
					t.Fatalf("error body %s (%s)", res.body, res.header.Get("Content-Type"))
				}
				schemas, _ := got["schemas"].([]any)
				if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
					t.Fatalf("error schemas %v", got["schemas"])
				}
				if d, _ := got["detail"].(string); d == "" || d == "internal error" {
					t.Fatalf("detail %q", d)
				}
			})
		}
		// Nothing of the above changed the user.
		res := e.do(req{method: "GET", path: u})
		mustStatus(t, res, http.StatusOK)
		if res.header.Get("ETag") != `W/"1"` {
			t.Fatalf("user changed by bad requests: %s", res.body)
		}
	})
}
