package adminapi

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

// addProfile creates a SCIM profile of the organization with its event.
func addProfile(t *testing.T, db *store.DB, orgID, userName string) scimbridge.Profile {
	t.Helper()
	now := time.Now().UTC()
	p := scimbridge.Profile{ID: uuid.NewString(), OrgID: orgID,
		Attributes: scimbridge.Attributes{UserName: userName, DisplayName: "Person " + userName,
			Emails: []scimbridge.Email{{Value: userName}}},
		Email: userName, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
	err := db.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: now, Method: "POST", Path: "/api/connect/v1/Users", Status: 201,
			TargetUserName: userName, Source: scimbridge.EventIdP, RequestBody: `{"userName":"` + userName + `","title":"secret"}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The directory: every role reads it, searched and paged; another
// organization's people never show.
func TestAPI_Directory(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, u := range []string{"alice@acme.example", "albert@acme.example", "bob@acme.example"} {
			addProfile(t, db, f.acme.ID, u)
		}
		addProfile(t, db, f.beta.ID, "alice@beta.example")
		for _, who := range []string{"app", "viewer", "owner", "operator"} {
			var l list[scimbridge.Profile]
			f.want(200, who, "GET", "/orgs/acme/users?search=AL", "").json(t, &l)
			if len(l.Data) != 2 || l.Next != "" {
				t.Errorf("%s: search al = %+v", who, l)
			}
			for _, p := range l.Data {
				if p.OrgID != f.acme.ID {
					t.Errorf("%s sees %s of another organization", who, p.UserName)
				}
			}
		}
		var p1, p2 list[scimbridge.Profile]
		f.want(200, "app", "GET", "/orgs/acme/users?limit=2", "").json(t, &p1)
		f.want(200, "app", "GET", "/orgs/acme/users?limit=2&after="+p1.Next, "").json(t, &p2)
		if len(p1.Data) != 2 || p1.Next == "" || len(p2.Data) != 1 || p2.Next != "" || p2.Data[0].ID == p1.Data[0].ID {
			t.Errorf("pages %+v then %+v", p1, p2)
		}
		var groups list[scimbridge.Group]
		f.want(200, "viewer", "GET", "/orgs/acme/groups?source=scim", "").json(t, &groups)
		if groups.Data == nil {
			t.Error("groups: data is not an array")
		}
		f.want(404, "app", "GET", "/orgs/beta/users", "")
		f.want(400, "app", "GET", "/orgs/acme/users?source=ldap", "")
		f.want(400, "app", "GET", "/orgs/acme/users?active=maybe", "")
		f.want(400, "app", "GET", "/orgs/acme/users?after="+p1.Next[:len(p1.Next)-2], "")
		f.want(400, "app", "GET", "/orgs/acme/groups?after="+p1.Next, "") // a users cursor
	})
}

// Erasing one person: owners only, the profile a tombstone, its events'
// bodies gone, the erasure an event with the actor.
func TestAPI_Erase(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		alice := addProfile(t, db, f.acme.ID, "alice@acme.example")
		path := "/orgs/acme/users/" + alice.ID + "/erase"
		f.want(403, "viewer", "POST", path, "")
		f.want(403, "app", "POST", path, "")
		f.want(404, "ownerB", "POST", "/orgs/beta/users/"+alice.ID+"/erase", "")
		var out admin.Erasure
		f.change(f.acme, 200, "owner", "POST", path, "").json(t, &out)
		if out.ProfileID != alice.ID || out.Events < 1 || out.AlreadyErased {
			t.Errorf("erasure %+v", out)
		}
		r := f.want(200, "viewer", "GET", "/orgs/acme/events?source=idp", "")
		if strings.Contains(string(r.body), "alice@acme.example") || strings.Contains(string(r.body), "secret") {
			t.Errorf("events still name the person: %s", r.body)
		}
		var l list[scimbridge.Profile]
		f.want(200, "viewer", "GET", "/orgs/acme/users?search=alice", "").json(t, &l)
		if len(l.Data) != 0 {
			t.Errorf("erased person still listed: %+v", l.Data)
		}
		f.want(404, "owner", "POST", "/orgs/acme/users/"+uuid.NewString()+"/erase", "")
	})
}

// Deleting an organization: operators only; its tokens die with it.
func TestAPI_DeleteOrganization(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		addProfile(t, db, f.beta.ID, "x@beta.example")
		f.want(403, "ownerB", "DELETE", "/orgs/beta", "")
		f.want(404, "owner", "DELETE", "/orgs/beta", "")
		f.want(204, "operator", "DELETE", "/orgs/beta", "")
		f.want(404, "operator", "GET", "/orgs/beta", "")
		f.want(401, "ownerB", "GET", "/orgs/beta/scim", "")
		p, err := db.ListEvents(context.Background(), scimbridge.EventQuery{Source: scimbridge.EventAdmin, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ev := range p.Events {
			if ev.Method == "DELETE" && ev.Path == "/api/admin/v1/orgs/beta" {
				found = strings.HasPrefix(ev.Actor, "operator:"+f.tokenIDs["operator"]) && ev.ClientIP == clientIP
			}
		}
		if !found {
			t.Error("no deletion event with the operator and client IP")
		}
		f.want(200, "owner", "GET", "/orgs/acme/scim", "")
	})
}

// The CSV export: the list's filters, a header row, every matching event.
func TestAPI_EventsCSV(t *testing.T) {
	f := newFixture(t, storeSQLite(t))
	for _, u := range []string{"a@acme.example", "b@acme.example"} {
		addProfile(t, f.db, f.acme.ID, u)
	}
	r := f.want(200, "viewer", "GET", "/orgs/acme/events.csv?source=idp", "")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" || rows[1][7] != "b@acme.example" {
		t.Errorf("csv %v: %q", err, r.body)
	}
	f.want(400, "viewer", "GET", "/orgs/acme/events.csv?status=9xx", "")
	f.want(403, "app", "GET", "/orgs/acme/events.csv", "")
}
