package adminapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/feed"
	"github.com/scimbridge/scimbridge/store"
)

// feedPage is a reply of the changes route.
type feedPage struct {
	Changes []struct {
		Cursor     string                `json:"cursor"`
		Type       scimbridge.ChangeType `json:"type"`
		ResourceID string                `json:"resource_id"`
	} `json:"changes"`
	NextCursor string `json:"next_cursor"`
}

// The bootstrap: the first page of users carries the feed cursor taken
// before it was read; following the feed from it gives exactly the
// changes made after the snapshot, and the changes route has the API's
// authentication and roles.
func TestAPI_SnapshotCursorAndChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.api.SetFeed(&feed.Feed{Store: db, Poll: 20 * time.Millisecond})
		for _, u := range []string{"ann@acme.example", "ben@acme.example", "cy@acme.example"} {
			addProfile(t, db, f.acme.ID, u)
		}
		// On PostgreSQL a change is readable once every transaction begun
		// before it has ended (other databases' too), and the head stays
		// below it until then: let the three settle, so the snapshot's
		// cursor is past them.
		ctx := context.Background()
		mark, err := db.ChangesMark(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			head, err := db.ChangesHead(ctx, f.acme.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !head.Less(mark) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the changes head stays at %+v, below %+v", head, mark)
			}
		}
		var first snapshot[scimbridge.Profile]
		f.want(200, "app", "GET", "/orgs/acme/users?limit=2", "").json(t, &first)
		if len(first.Data) != 2 || first.Next == "" || first.Cursor == "" {
			t.Fatalf("first page: %+v", first)
		}
		var second snapshot[scimbridge.Profile]
		r := f.want(200, "app", "GET", "/orgs/acme/users?limit=2&after="+first.Next, "")
		r.json(t, &second)
		if len(second.Data) != 1 || second.Cursor != "" {
			t.Errorf("a later page carries a cursor: %s", r.body)
		}
		var groups snapshot[scimbridge.Group]
		f.want(200, "viewer", "GET", "/orgs/acme/groups", "").json(t, &groups)
		if groups.Cursor == "" {
			t.Error("the first page of groups has no cursor")
		}

		// Nothing happened since the snapshot: the feed is empty from it.
		var p feedPage
		f.want(200, "app", "GET", "/orgs/acme/changes?after="+first.Cursor, "").json(t, &p)
		if len(p.Changes) != 0 {
			t.Fatalf("changes before the snapshot returned: %+v", p.Changes)
		}
		dee := addProfile(t, db, f.acme.ID, "dee@acme.example")
		addProfile(t, db, f.beta.ID, "eve@beta.example")
		// Wait for dee's change to be readable (as above).
		f.want(200, "app", "GET", "/orgs/acme/changes?wait=60s&after="+first.Cursor, "").json(t, &p)
		if len(p.Changes) != 1 || p.Changes[0].ResourceID != dee.ID || p.Changes[0].Type != scimbridge.ChangeUserCreated {
			t.Fatalf("changes after the snapshot: %+v, want dee's creation alone", p.Changes)
		}
		// From the beginning: the three earlier users and dee.
		f.want(200, "viewer", "GET", "/orgs/acme/changes", "").json(t, &p)
		if len(p.Changes) != 4 {
			t.Errorf("whole feed: %d changes, want 4", len(p.Changes))
		}

		// The route's authentication, roles and errors are the API's.
		for _, who := range []string{"owner", "viewer", "app", "operator"} {
			f.want(200, who, "GET", "/orgs/acme/changes?limit=1", "")
		}
		if r := f.want(401, "", "GET", "/orgs/acme/changes", ""); r.errorCode(t) != scimbridge.EUNAUTHORIZED {
			t.Errorf("no token: %s", r.body)
		}
		if r := f.want(404, "ownerB", "GET", "/orgs/acme/changes", ""); strings.Contains(string(r.body), f.acme.ID) {
			t.Errorf("another organization's token: %s", r.body)
		}
		if r := f.want(400, "app", "GET", "/orgs/acme/changes?after=not-a-cursor", ""); r.errorCode(t) != "invalid" {
			t.Errorf("bad cursor: %s", r.body)
		}
		f.want(400, "app", "GET", "/orgs/acme/changes?limit=5000", "")
	})
}
