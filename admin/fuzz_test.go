package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// FuzzListings feeds the listings' outside input (what the admin API and
// the console pass on from a query string) to the real operations over
// SQLite: every call returns a page or a coded client error (EINVALID,
// ENOTFOUND), never an uncoded error that would be a 500.
//
//	go test ./admin -run '^$' -fuzz FuzzListings -fuzztime 1m
func FuzzListings(f *testing.F) {
	db := storetest.OpenSQLite(f)
	a := newAdmin(db)
	ctx := context.Background()
	org, err := a.CreateOrg(ctx, by, "acme", "")
	if err != nil {
		f.Fatal(err)
	}
	addProfile(f, db, org.ID, "ada@x.example")
	first, err := a.Users(ctx, "acme", admin.DirectoryQuery{Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("ada", "scim", first.Next, 1, 4, "PATCH", "/scim/v2/Users", "report", "create")
	f.Add("", "", "", 0, 0, "", "", "", "")
	f.Add("\x00", "ldap", "!!!", -1, 9, "get", "/", "x", "Robert'); DROP TABLE events;--")
	f.Add("ü%_\\", "google", "ZTox", 1000, 5, "DELETE", "%", "../..", "skip")
	f.Add(string(make([]byte, 2000)), "manual", "dTo", 1001, 2, "\xff\xfe", "?token=x", "r", "")
	f.Fuzz(func(t *testing.T, search, source, after string, limit, class int, method, path, report, kind string) {
		check := func(op string, err error) {
			t.Helper()
			switch scimbridge.ErrorCode(err) {
			case "", scimbridge.EINVALID, scimbridge.ENOTFOUND:
				if err != nil && scimbridge.ErrorCode(err) == "" {
					t.Fatalf("%s: uncoded error %v", op, err)
				}
			default:
				t.Fatalf("%s: error %v", op, err)
			}
		}
		q := admin.DirectoryQuery{Search: search, Source: scimbridge.Source(source), After: after, Limit: limit}
		_, err := a.Users(ctx, "acme", q)
		check("users", err)
		_, err = a.Groups(ctx, "acme", q)
		check("groups", err)
		_, err = a.Events(ctx, "acme", admin.EventQuery{StatusClass: class, Method: method, UserName: search,
			Source: scimbridge.EventSource(source), PathPrefix: path, After: after, Limit: limit,
			Since: time.Unix(int64(limit), 0)})
		check("events", err)
		_, err = a.ReportItems(ctx, "acme", report, scimbridge.ChangeKind(kind), after, limit)
		check("report items", err)
	})
}
