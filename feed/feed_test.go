package feed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/feed"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// dialects runs fn on a fresh SQLite and a fresh PostgreSQL store.
func dialects(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

func newOrg(t testing.TB, s scimbridge.Store, slug string) scimbridge.Organization {
	t.Helper()
	o := scimbridge.Organization{ID: uuid.NewString(), Slug: slug, Name: slug, CreatedAt: time.Now()}
	if err := s.CreateOrganization(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func newProfile(orgID, userName string) scimbridge.Profile {
	now := time.Now().UTC()
	return scimbridge.Profile{ID: uuid.NewString(), OrgID: orgID, Attributes: scimbridge.Attributes{UserName: userName},
		Email: userName, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
}

func createUser(s scimbridge.Store, p scimbridge.Profile) error {
	return s.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event:  scimbridge.Event{Time: time.Now(), Method: "POST", Status: 201, Source: scimbridge.EventIdP, RequestID: uuid.NewString()}})
}

// updateUser writes p as the next version with a new displayName, or
// deactivated, reactivated or detached by kind.
func updateUser(s scimbridge.Store, p *scimbridge.Profile, kind scimbridge.ChangeKind) error {
	next := *p
	next.Version++
	next.UpdatedAt = time.Now().UTC()
	var fields []scimbridge.FieldChange
	switch kind {
	case scimbridge.ChangeUpdate:
		next.DisplayName = fmt.Sprintf("v%d", next.Version)
		fields = []scimbridge.FieldChange{{Field: "displayName"}}
	case scimbridge.ChangeDeactivate:
		next.State, next.DeactivatedAt = scimbridge.StateInactive, &next.UpdatedAt
		fields = []scimbridge.FieldChange{{Field: "active"}}
	case scimbridge.ChangeReactivate:
		next.State, next.DeactivatedAt = scimbridge.StateActive, nil
		fields = []scimbridge.FieldChange{{Field: "active"}}
	case scimbridge.ChangeDetach:
		next.DetachedAt = &next.UpdatedAt
	}
	err := s.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: kind, Profile: next, ExpectedVersion: p.Version, Fields: fields},
		Event:  scimbridge.Event{Time: time.Now(), Method: "PATCH", Status: 200, Source: scimbridge.EventIdP}})
	if err == nil {
		*p = next
	}
	return err
}

func get(t *testing.T, h http.HandlerFunc, query string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/admin/v1/orgs/acme/changes?"+query, nil)
	w := httptest.NewRecorder()
	h(w, req)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: body %q: %v", query, w.Body, err)
	}
	return w.Code, body
}

// TestFeed_HTTP checks the response shape, paging, the refusals and the
// long-poll woken by a commit, on both dialects.
func TestFeed_HTTP(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := feed.NewNotifier(nil)
		db.SetChangeNotifier(n.Notify)
		f := &feed.Feed{Store: db, Notifier: n, Poll: time.Hour}
		org, other := newOrg(t, db, "acme"), newOrg(t, db, "other")
		h := func(w http.ResponseWriter, r *http.Request) { f.ServeChanges(w, r, org) }

		ann, bob := newProfile(org.ID, "ann@x.example"), newProfile(org.ID, "bob@x.example")
		for _, p := range []scimbridge.Profile{ann, newProfile(other.ID, "zed@x.example"), bob} {
			if err := createUser(db, p); err != nil {
				t.Fatal(err)
			}
		}
		storetest.Settle(t, db)
		code, body := get(t, h, "limit=1")
		changes, _ := body["changes"].([]any)
		if code != 200 || len(changes) != 1 || body["has_more"] != true {
			t.Fatalf("first page: %d %v", code, body)
		}
		c := changes[0].(map[string]any)
		res, _ := c["resource"].(map[string]any)
		if c["type"] != "user.created" || c["resource_id"] != ann.ID || c["version"] != 1.0 || c["org_id"] != org.ID ||
			c["source"] != "idp" || res["userName"] != "ann@x.example" || c["cursor"] != body["next_cursor"] {
			t.Errorf("change = %v", c)
		}
		code, body = get(t, h, "after="+body["next_cursor"].(string))
		changes, _ = body["changes"].([]any)
		if code != 200 || len(changes) != 1 || changes[0].(map[string]any)["resource_id"] != bob.ID || body["has_more"] != false {
			t.Fatalf("second page: %d %v", code, body)
		}
		last := body["next_cursor"].(string)
		code, body = get(t, h, "after="+last)
		if changes, _ := body["changes"].([]any); code != 200 || len(changes) != 0 || body["next_cursor"] != last {
			t.Errorf("past the end: %d %v", code, body)
		}

		for q, want := range map[string]int{"after=nope": 400, "limit=0": 400, "limit=1001": 400, "wait=soon": 400, "wait=-2s": 400} {
			if code, body := get(t, h, q); code != want || body["message"] == "" {
				t.Errorf("%s: %d %v, want %d", q, code, body, want)
			}
		}

		// Long-poll: the request waits, holding no connection, until a
		// commit wakes it.
		type result struct {
			code int
			body map[string]any
		}
		done := make(chan result, 1)
		go func() {
			code, body := get(t, h, "wait=60s&after="+last)
			done <- result{code, body}
		}()
		for n.Waiters() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		// The poll reads once more as it starts waiting; after that, for
		// the rest of its 60 s, it holds no connection.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			inUse := 0
			for _, st := range db.Stats() {
				inUse += st.InUse
			}
			if inUse == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("a waiting long-poll still holds %d connections after 2 s", inUse)
				break
			}
		}
		carl := newProfile(org.ID, "carl@x.example")
		if err := createUser(db, carl); err != nil {
			t.Fatal(err)
		}
		r := <-done
		changes, _ = r.body["changes"].([]any)
		if r.code != 200 || len(changes) != 1 || changes[0].(map[string]any)["resource_id"] != carl.ID {
			t.Fatalf("long-poll: %d %v", r.code, r.body)
		}

		// Past retention: 410 with the way out.
		if _, err := db.PurgeChanges(ctx, time.Now().Add(time.Hour), 100); err != nil {
			t.Fatal(err)
		}
		code, body = get(t, h, "after="+last)
		if e, _ := body["error"].(map[string]any); code != http.StatusGone || e["code"] != "cursor_expired" {
			t.Errorf("purged cursor: %d %v", code, body)
		}
		// A head taken after the purge is a valid cursor.
		head, err := f.Head(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := get(t, h, "after="+head); code != 200 {
			t.Errorf("head after purge: %d %v", code, body)
		}
	})
}

// TestFeed_ReplicasWakeEachOther: a long-poll on one replica is woken by a
// commit on another, through PostgreSQL LISTEN/NOTIFY (the poll interval
// is an hour, so nothing else could wake it).
func TestFeed_ReplicasWakeEachOther(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := storetest.PostgresURL(t)
	one, two := openReplica(t, dsn), openReplica(t, dsn)
	n1, n2 := feed.NewNotifier(nil), feed.NewNotifier(nil)
	one.SetChangeNotifier(n1.Notify)
	two.SetChangeNotifier(n2.Notify)
	if err := n1.Listen(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	go n2.Publish(ctx, two.WriteSQLX().DB)
	org := newOrg(t, one, "acme")
	f1 := &feed.Feed{Store: one, Notifier: n1, Poll: time.Hour}
	head, err := f1.Head(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan feed.Page, 1)
	go func() {
		p, err := f1.Read(ctx, org.ID, head, 10, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	for n1.Waiters() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	p := newProfile(org.ID, "ann@x.example")
	if err := createUser(two, p); err != nil {
		t.Fatal(err)
	}
	page := <-done
	if len(page.Changes) != 1 || page.Changes[0].ResourceID != p.ID {
		t.Fatalf("woken page: %+v", page)
	}
}

func openReplica(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetChangeRenderer(storetest.Renderer)
	return db
}
