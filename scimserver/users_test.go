package scimserver

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestUsers_Lifecycle(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		res := e.do(req{method: "POST", path: "/Users", body: user("ann@example.com", "displayName", "Ann")})
		mustStatus(t, res, http.StatusCreated)
		id := res.json(t)["id"].(string)
		if got, want := res.header.Get("Location"), e.base+"/Users/"+id; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		if got := res.header.Get("ETag"); got != `W/"1"` {
			t.Errorf("ETag %q, want W/\"1\"", got)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/scim+json" {
			t.Errorf("Content-Type %q", ct)
		}

		t.Run("Get", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users/" + id})
			mustStatus(t, res, http.StatusOK)
			if res.header.Get("ETag") != `W/"1"` || res.json(t)["displayName"] != "Ann" {
				t.Fatalf("GET = %s %s", res.header.Get("ETag"), res.body)
			}
		})
		t.Run("GetUpperCaseID", func(t *testing.T) {
			mustStatus(t, e.do(req{method: "GET", path: "/Users/" + strings.ToUpper(id)}), http.StatusOK)
		})
		t.Run("PutClearsOmitted", func(t *testing.T) {
			body := user("ann@example.com")
			delete(body, "active")
			res := e.do(req{method: "PUT", path: "/Users/" + id, body: body})
			mustStatus(t, res, http.StatusOK)
			got := res.json(t)
			if _, ok := got["displayName"]; ok || got["active"] != true || res.header.Get("ETag") != `W/"2"` {
				t.Fatalf("PUT = %s %s; want displayName cleared, active unchanged, version 2", res.header.Get("ETag"), res.body)
			}
		})
		t.Run("PutUnchangedDoesNotWrite", func(t *testing.T) {
			res := e.do(req{method: "PUT", path: "/Users/" + id, body: user("ann@example.com")})
			mustStatus(t, res, http.StatusOK)
			if res.header.Get("ETag") != `W/"2"` {
				t.Fatalf("ETag %s after a no-op PUT, want W/\"2\"", res.header.Get("ETag"))
			}
		})
		t.Run("PutWithoutUserName", func(t *testing.T) {
			body := user("ann@example.com")
			delete(body, "userName")
			mustStatus(t, e.do(req{method: "PUT", path: "/Users/" + id, body: body}), http.StatusBadRequest)
		})
		t.Run("PatchDeactivate", func(t *testing.T) {
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "active", "value": false})})
			mustStatus(t, res, http.StatusOK)
			if res.json(t)["active"] != false || res.header.Get("ETag") != `W/"3"` {
				t.Fatalf("PATCH = %s %s", res.header.Get("ETag"), res.body)
			}
			p, err := db.Profile(context.Background(), e.org.ID, id)
			if err != nil || p.State != scimbridge.StateInactive || !p.AccessRevoked {
				t.Fatalf("stored %+v, %v; want inactive with access revoked", p, err)
			}
		})
		t.Run("PatchNoChange", func(t *testing.T) {
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "active", "value": false})})
			mustStatus(t, res, http.StatusOK)
			if res.header.Get("ETag") != `W/"3"` {
				t.Fatalf("ETag %s after a no-op PATCH, want W/\"3\"", res.header.Get("ETag"))
			}
		})
		t.Run("Delete", func(t *testing.T) {
			res := e.do(req{method: "DELETE", path: "/Users/" + id})
			mustStatus(t, res, http.StatusNoContent)
			if len(res.body) != 0 {
				t.Fatalf("DELETE body %s", res.body)
			}
			for _, m := range []string{"GET", "DELETE"} {
				mustStatus(t, e.do(req{method: m, path: "/Users/" + id}), http.StatusNotFound)
			}
			mustStatus(t, e.do(req{method: "PUT", path: "/Users/" + id, body: user("ann@example.com")}), http.StatusNotFound)
			p, err := db.Profile(context.Background(), e.org.ID, id)
			if err != nil || !p.Detached() || p.Active() {
				t.Fatalf("stored %+v, %v; want kept, detached, inactive", p, err)
			}
		})
	})
}

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func TestUsers_IfMatch(t *testing.T) {
	db := storetest.OpenSQLite(t)
	e := newEnv(t, db)
	id := e.createUser(user("bob@example.com"))
	title := func(v string) map[string]any {
		return patchBody(map[string]any{"op": "replace", "path": "title", "value": v})
	}
	tests := []struct {
		name    string
		ifMatch string
		status  int
	}{
		{"Current", `W/"1"`, http.StatusOK},
		{"Stale", `W/"1"`, http.StatusPreconditionFailed},
		{"Star", `*`, http.StatusOK},
		{"StrongFormOfCurrent", `"3"`, http.StatusOK},
		{"OneOfList", `W/"9", W/"4"`, http.StatusOK},
		{"Garbage", `nonsense`, http.StatusPreconditionFailed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: title(tt.name + string(rune('a'+i))), header: map[string]string{"If-Match": tt.ifMatch}})
			mustStatus(t, res, tt.status)
			if tt.status == http.StatusPreconditionFailed && res.json(t)["status"] != "412" {
				t.Fatalf("412 body %s", res.body)
			}
		})
	}
	t.Run("DeleteStale", func(t *testing.T) {
		mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + id, header: map[string]string{"If-Match": `W/"1"`}}), http.StatusPreconditionFailed)
		mustStatus(t, e.do(req{method: "PUT", path: "/Users/" + id, body: user("bob@example.com"), header: map[string]string{"If-Match": `W/"1"`}}), http.StatusPreconditionFailed)
		mustStatus(t, e.do(req{method: "GET", path: "/Users/" + id}), http.StatusOK)
	})
}

// racingStore lets a concurrent writer change the profile just before
// the first n ApplyChange calls, so they lose on version.
type racingStore struct {
	scimbridge.Store
	races atomic.Int32
}

func (s *racingStore) ApplyChange(ctx context.Context, c scimbridge.ChangeEvent) error {
	if s.races.Add(-1) >= 0 && c.Change.Kind != scimbridge.ChangeCreate {
		stored, err := s.Store.Profile(ctx, c.Change.Profile.OrgID, c.Change.Profile.ID)
		if err != nil {
			return err
		}
		d := reconcile.NormalizeProfile(stored).Profile()
		d.Title += "x"
		other, err := reconcile.Apply(stored, reconcile.Normalize(d), scimbridge.ChangeUpdate, time.Now())
		if err != nil {
			return err
		}
		if err := s.Store.ApplyChange(ctx, scimbridge.ChangeEvent{Change: other, Event: scimbridge.Event{Time: time.Now(), Source: scimbridge.EventAdmin}}); err != nil {
			return err
		}
	}
	return s.Store.ApplyChange(ctx, c)
}

func TestUsers_ConcurrentWriterRetried(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		rs := &racingStore{Store: db}
		e := newEnv(t, rs)
		id := e.createUser(user("carol@example.com"))
		name := func(v string) map[string]any {
			return patchBody(map[string]any{"op": "replace", "path": "displayName", "value": v})
		}

		t.Run("WithoutIfMatchRetried", func(t *testing.T) {
			rs.races.Store(2)
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: name("Carol")})
			mustStatus(t, res, http.StatusOK)
			got := res.json(t)
			// Both concurrent title changes and this request's change hold.
			if got["displayName"] != "Carol" || got["title"] != "xx" || res.header.Get("ETag") != `W/"4"` {
				t.Fatalf("after retries: %s %s", res.header.Get("ETag"), res.body)
			}
		})
		t.Run("GivesUpAs409Not412", func(t *testing.T) {
			rs.races.Store(10)
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: name("Carol 2")})
			mustStatus(t, res, http.StatusConflict)
			rs.races.Store(0)
		})
		t.Run("WithIfMatch412", func(t *testing.T) {
			cur := e.do(req{method: "GET", path: "/Users/" + id})
			rs.races.Store(1)
			res := e.do(req{method: "PATCH", path: "/Users/" + id, body: name("Carol 3"), header: map[string]string{"If-Match": cur.header.Get("ETag")}})
			mustStatus(t, res, http.StatusPreconditionFailed)
		})
	})
}

func TestUsers_NotFound(t *testing.T) {
	db := storetest.OpenSQLite(t)
	e := newEnv(t, db)
	ctx := context.Background()
	now := time.Now().UTC()
	// A manual and a google profile of the organization: not SCIM's.
	var foreign []string
	for _, src := range []scimbridge.Source{scimbridge.SourceManual, scimbridge.SourceGoogle} {
		p, err := reconcile.NewProfile(e.org.ID, src, reconcile.Normalize(scimbridge.DesiredProfile{
			Attributes: scimbridge.Attributes{UserName: string(src) + "@example.com"}, Active: true}), uuid.NewString(), now)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event: scimbridge.Event{Time: now, Source: scimbridge.EventAdmin}}); err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, p.ID)
	}
	paths := map[string]string{
		"NotUUID":     "/Users/not-a-uuid",
		"SQLish":      "/Users/1'%20OR%20'1'='1",
		"Missing":     "/Users/" + uuid.NewString(),
		"Manual":      "/Users/" + foreign[0],
		"Google":      "/Users/" + foreign[1],
		"TrailingBit": "/Users/" + foreign[0] + "x",
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
				var body any
				switch m {
				case "PUT":
					body = user("x@example.com")
				case "PATCH":
					body = patchBody(map[string]any{"op": "replace", "path": "title", "value": "x"})
				}
				res := e.do(req{method: m, path: path, body: body})
				mustStatus(t, res, http.StatusNotFound)
				if res.json(t)["status"] != "404" {
					t.Fatalf("%s %s: body %s", m, path, res.body)
				}
			}
		})
	}
	t.Run("ForeignUntouched", func(t *testing.T) {
		for _, id := range foreign {
			p, err := db.Profile(ctx, e.org.ID, id)
			if err != nil || p.Version != 1 || p.Detached() {
				t.Fatalf("profile %s changed: %+v %v", id, p, err)
			}
		}
	})
}

func TestUsers_CreateDecisions(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		ctx := context.Background()
		now := time.Now().UTC()
		put := func(src scimbridge.Source, userName string) scimbridge.Profile {
			p, err := reconcile.NewProfile(e.org.ID, src, reconcile.Normalize(scimbridge.DesiredProfile{
				Attributes: scimbridge.Attributes{UserName: userName}, Active: true}), uuid.NewString(), now)
			if err != nil {
				t.Fatal(err)
			}
			p.Role = scimbridge.RoleAdmin
			if err := db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
				Event: scimbridge.Event{Time: now, Source: scimbridge.EventAdmin}}); err != nil {
				t.Fatal(err)
			}
			return p
		}

		t.Run("AdoptsManual", func(t *testing.T) {
			manual := put(scimbridge.SourceManual, "dora@example.com")
			res := e.do(req{method: "POST", path: "/Users", body: user("Dora@Example.com")})
			mustStatus(t, res, http.StatusCreated)
			if res.json(t)["id"] != manual.ID {
				t.Fatalf("adopted id %v, want %s", res.json(t)["id"], manual.ID)
			}
			p, _ := db.Profile(ctx, e.org.ID, manual.ID)
			if p.Source != scimbridge.SourceSCIM || p.Role != scimbridge.RoleAdmin {
				t.Fatalf("adopted profile %+v; want source scim, role kept", p)
			}
			ev := eventFor(t, e.events(e.org.ID), res.header.Get("X-Request-Id"))
			if ev.Kind != scimbridge.ChangeAdopt {
				t.Fatalf("event kind %q, want adopt", ev.Kind)
			}
		})
		t.Run("ConflictNamesSource", func(t *testing.T) {
			put(scimbridge.SourceGoogle, "eve@example.com")
			res := e.do(req{method: "POST", path: "/Users", body: user("eve@example.com")})
			mustStatus(t, res, http.StatusConflict)
			got := res.json(t)
			if got["scimType"] != "uniqueness" || !strings.Contains(got["detail"].(string), "google") {
				t.Fatalf("409 body %s; want uniqueness naming google", res.body)
			}
		})
		t.Run("AdoptOff", func(t *testing.T) {
			if err := db.SetAdoptExisting(ctx, e.org.ID, false); err != nil {
				t.Fatal(err)
			}
			defer db.SetAdoptExisting(ctx, e.org.ID, true)
			put(scimbridge.SourceSAML, "fay@example.com")
			res := e.do(req{method: "POST", path: "/Users", body: user("fay@example.com")})
			mustStatus(t, res, http.StatusConflict)
		})
		t.Run("RenameToTakenUserName", func(t *testing.T) {
			e.createUser(user("ida@example.com"))
			id := e.createUser(user("jon@example.com"))
			for _, r := range []req{
				{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "userName", "value": "IDA@example.com"})},
				{method: "PUT", path: "/Users/" + id, body: user("ida@example.com")},
			} {
				res := e.do(r)
				mustStatus(t, res, http.StatusConflict)
				if res.json(t)["scimType"] != "uniqueness" {
					t.Fatalf("%s: %s", r.method, res.body)
				}
			}
		})
		t.Run("ReviveByUserName", func(t *testing.T) {
			id := e.createUser(user("gil@example.com"))
			mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + id}), http.StatusNoContent)
			res := e.do(req{method: "POST", path: "/Users", body: user("gil@example.com")})
			mustStatus(t, res, http.StatusCreated)
			if res.json(t)["id"] != id {
				t.Fatalf("revived id %v, want %s", res.json(t)["id"], id)
			}
		})
		t.Run("NewProfileReleasesDetached", func(t *testing.T) {
			id := e.createUser(user("hal@example.com", "externalId", "ext-1"))
			mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + id}), http.StatusNoContent)
			res := e.do(req{method: "POST", path: "/Users", body: user("hal@example.com", "externalId", "ext-2")})
			mustStatus(t, res, http.StatusCreated)
			newID := res.json(t)["id"].(string)
			if newID == id {
				t.Fatal("a different externalId revived the detached profile")
			}
			old, _ := db.Profile(ctx, e.org.ID, id)
			if old.UserName != "" || old.FormerUserName != "hal@example.com" {
				t.Fatalf("detached profile %+v; want its userName released", old)
			}
			var own int
			for _, ev := range e.events(e.org.ID) {
				if ev.RequestID == res.header.Get("X-Request-Id") {
					own++
					if ev.Kind != scimbridge.ChangeCreate || ev.ProfileID != newID {
						t.Fatalf("request event %+v", ev)
					}
				}
			}
			if own != 1 {
				t.Fatalf("%d events for the request, want exactly 1", own)
			}
		})
	})
}

func TestUsers_Manager(t *testing.T) {
	db := storetest.OpenSQLite(t)
	e := newEnv(t, db)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	bossID := e.createUser(user("boss@example.com", "displayName", "The Boss", "externalId", "boss-ext"))
	manager := func(id string) map[string]any {
		res := e.do(req{method: "GET", path: "/Users/" + id})
		mustStatus(t, res, http.StatusOK)
		ext, _ := res.json(t)[ent].(map[string]any)
		m, _ := ext["manager"].(map[string]any)
		return m
	}
	tests := []struct {
		name, value string
		resolved    bool
	}{
		{"ByID", bossID, true},
		{"ByExternalID", "boss-ext", true},
		{"Unresolved", "nobody", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := user(string(rune('a'+i))+"-report@example.com", ent, map[string]any{"manager": map[string]any{"value": tt.value}})
			body["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User", ent}
			id := e.createUser(body)
			m := manager(id)
			if m["value"] != tt.value {
				t.Fatalf("manager %v, want value %s", m, tt.value)
			}
			if tt.resolved && (m["$ref"] != e.base+"/Users/"+bossID || m["displayName"] != "The Boss") {
				t.Fatalf("manager %v, want resolved to %s", m, bossID)
			}
			if !tt.resolved && (m["$ref"] != nil || m["displayName"] != nil) {
				t.Fatalf("manager %v, want only the value", m)
			}
		})
	}
}
