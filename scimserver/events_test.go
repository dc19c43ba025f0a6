package scimserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestEvents_Fields(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		clock := newTestClock()
		e := newEnv(t, db, func(c *Config) {
			c.Clock = clock.Now
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		hdr := map[string]string{
			"X-Request-Id":    "req-create-1",
			"User-Agent":      "Okta SCIM Client 1.0.0",
			"X-Forwarded-For": "203.0.113.9, 198.51.100.77",
		}
		body := user("ivy@example.com", "password", "s3cret-pw")
		res := e.do(req{method: "POST", path: "/Users?attributes=userName,emails", body: body, header: hdr})
		mustStatus(t, res, http.StatusCreated)
		if res.header.Get("X-Request-Id") != "req-create-1" {
			t.Fatalf("request id not echoed: %q", res.header.Get("X-Request-Id"))
		}
		id := res.json(t)["id"].(string)

		t.Run("Success", func(t *testing.T) {
			ev := eventFor(t, e.events(e.org.ID), "req-create-1")
			want := scimbridge.Event{
				OrgID: e.org.ID, Time: clock.Now(), Method: "POST", Path: scim.BasePath + "/Users?attributes=userName,emails",
				Status: 201, TargetUserName: "ivy@example.com", ClientIP: "198.51.100.77",
				UserAgent: "Okta SCIM Client 1.0.0", RequestID: "req-create-1", Source: scimbridge.EventIdP,
				Kind: scimbridge.ChangeCreate, ProfileID: id, ResponseBody: string(res.body), Count: 1,
			}
			ev.ID, ev.Duration = 0, 0
			var sent map[string]any
			if err := json.Unmarshal([]byte(ev.RequestBody), &sent); err != nil || sent["password"] != "[redacted]" || sent["userName"] != "ivy@example.com" {
				t.Errorf("request body %s", ev.RequestBody)
			}
			ev.RequestBody = ""
			if !ev.Time.Equal(want.Time) {
				t.Errorf("time %v, want %v", ev.Time, want.Time)
			}
			ev.Time = want.Time
			if fmt.Sprintf("%+v", ev) != fmt.Sprintf("%+v", want) {
				t.Errorf("event\n got %+v\nwant %+v", ev, want)
			}
		})

		t.Run("Failure", func(t *testing.T) {
			hdr["X-Request-Id"] = "req-dup-1"
			res := e.do(req{method: "POST", path: "/Users", body: body, header: hdr})
			mustStatus(t, res, http.StatusConflict)
			ev := eventFor(t, e.events(e.org.ID), "req-dup-1")
			if ev.OrgID != e.org.ID || ev.Method != "POST" || ev.Path != scim.BasePath+"/Users" || ev.Status != 409 ||
				ev.TargetUserName != "ivy@example.com" || ev.ClientIP != "198.51.100.77" || ev.UserAgent != "Okta SCIM Client 1.0.0" ||
				ev.Source != scimbridge.EventIdP || ev.Kind != "" || ev.Count != 1 || ev.Error == "" ||
				ev.ResponseBody != string(res.body) || !strings.Contains(ev.RequestBody, "[redacted]") {
				t.Errorf("failure event %+v", ev)
			}
		})

		t.Run("ByIDTarget", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users/" + id, header: map[string]string{"X-Request-Id": "req-get-1"}})
			mustStatus(t, res, http.StatusOK)
			ev := eventFor(t, e.events(e.org.ID), "req-get-1")
			if ev.TargetUserName != "ivy@example.com" || ev.ProfileID != id || ev.Status != 200 || ev.Kind != "" {
				t.Errorf("GET event %+v", ev)
			}
		})

		t.Run("GeneratedRequestID", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/Users", header: map[string]string{"X-Request-Id": "bad id with spaces"}})
			rid := res.header.Get("X-Request-Id")
			if rid == "" || strings.Contains(rid, " ") {
				t.Fatalf("request id %q", rid)
			}
			eventFor(t, e.events(e.org.ID), rid)
		})

		t.Run("UntrustedPeerIgnoresForwardedFor", func(t *testing.T) {
			e.srv.SetTrustedProxies(nil)
			defer e.srv.SetTrustedProxies([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
			res := e.do(req{method: "GET", path: "/Users", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}})
			ev := eventFor(t, e.events(e.org.ID), res.header.Get("X-Request-Id"))
			if ev.ClientIP != "127.0.0.1" {
				t.Errorf("client ip %q, want the peer 127.0.0.1", ev.ClientIP)
			}
		})
	})
}

func TestEvents_ExactlyOnePerRequest(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		id := e.createUser(user("jay@example.com"))
		big := `{"userName":"` + strings.Repeat("x", maxBodyBytes) + `"}`
		deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
		requests := []req{
			{method: "GET", path: "/Users"},
			{method: "GET", path: "/Users/" + id},
			{method: "POST", path: "/Users", body: user("kim@example.com")},
			{method: "POST", path: "/Users", body: user("kim@example.com")},
			{method: "PUT", path: "/Users/" + id, body: user("jay@example.com")},
			{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "title", "value": "Boss"})},
			{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "title", "value": "Boss"})},
			{method: "GET", path: "/Users", token: "-"},
			{method: "GET", path: "/Users", token: "scb_acme_" + strings.Repeat("0", 43)},
			{method: "GET", path: "/Groups"},
			{method: "POST", path: "/Groups", body: map[string]any{"displayName": "Sales"}},
			{method: "GET", path: "/Bogus"},
			{method: "PUT", path: "/Users"},
			{method: "POST", path: "/Users", body: big},
			{method: "POST", path: "/Users", body: `{"userName": `},
			{method: "POST", path: "/Users", body: deep},
			{method: "POST", path: "/Users", body: "userName=x", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			{method: "GET", path: "/Users?filter=" + "userName%20eq"},
			{method: "GET", path: "/ServiceProviderConfig"},
			{method: "GET", path: "/Schemas"},
			{method: "POST", path: "/.search", body: map[string]any{"count": 1}},
			{method: "DELETE", path: "/Users/" + id},
			{method: "DELETE", path: "/Users/" + id},
		}
		statuses := map[string]int{}
		for i, r := range requests {
			rid := fmt.Sprintf("one-%02d", i)
			if r.header == nil {
				r.header = map[string]string{}
			}
			r.header["X-Request-Id"] = rid
			res := e.do(r)
			statuses[rid] = res.status
			if res.status >= 500 {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
			}
		}
		var all []scimbridge.Event
		all = append(all, e.events(e.org.ID)...)
		all = append(all, e.events("")...)
		for rid, status := range statuses {
			ev := eventFor(t, all, rid)
			if ev.Status != status {
				t.Errorf("%s: event status %d, response %d", rid, ev.Status, status)
			}
		}
		if t.Failed() {
			for _, ev := range all {
				t.Logf("%s %s %s %d", ev.RequestID, ev.Method, ev.Path, ev.Status)
			}
		}
	})
}

func TestEvents_PasswordsNeverStored(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		const secret = "Hunter2-very-secret"
		body := user("lou@example.com", "password", secret)
		id := e.createUser(body)
		requests := []req{
			{method: "PUT", path: "/Users/" + id, body: user("lou@example.com", "password", secret, "title", "x")},
			{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "path": "password", "value": secret})},
			{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "replace", "value": map[string]any{"PASSWORD": secret, "title": "y"}})},
			{method: "PATCH", path: "/Users/" + id, body: patchBody(map[string]any{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": secret})},
			{method: "POST", path: "/Users", body: `{"userName":"zed@example.com","password":"` + secret + `"`},
			{method: "POST", path: "/Users", body: user("lou@example.com", "urn:ietf:params:scim:schemas:core:2.0:User:password", secret)},
			{method: "GET", path: "/Users/" + id},
		}
		for _, r := range requests {
			if res := e.do(r); res.status >= 500 || strings.Contains(string(res.body), secret) {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
			}
		}
		events := e.events(e.org.ID)
		if len(events) != len(requests)+1 {
			t.Errorf("%d events for %d requests", len(events), len(requests)+1)
		}
		for _, ev := range events {
			if b, _ := json.Marshal(ev); strings.Contains(string(b), secret) {
				t.Errorf("password stored in event %s", b)
			}
		}
		if p, err := db.Profile(context.Background(), e.org.ID, id); err != nil {
			t.Fatal(err)
		} else if b, _ := json.Marshal(p); strings.Contains(string(b), secret) {
			t.Errorf("password stored in profile %s", b)
		}
	})
}

// brokenCommitStore fails every ApplyChange with an internal error.
type brokenCommitStore struct{ scimbridge.Store }

func (brokenCommitStore) ApplyChange(context.Context, scimbridge.ChangeEvent) error {
	return errors.New("apply change: pq: could not serialize access (secret internal text)")
}

func TestEvents_CommitFailureRecordsOneFailureEvent(t *testing.T) {
	db := storetest.OpenSQLite(t)
	e := newEnv(t, brokenCommitStore{db})
	res := e.do(req{method: "POST", path: "/Users", body: user("max@example.com")})
	mustStatus(t, res, http.StatusInternalServerError)
	if got := res.json(t); got["detail"] != "internal error" || strings.Contains(string(res.body), "secret") {
		t.Fatalf("500 body %s", res.body)
	}
	ev := eventFor(t, e.events(e.org.ID), res.header.Get("X-Request-Id"))
	if ev.Status != 500 || ev.Kind != "" || ev.TargetUserName != "max@example.com" || ev.ResponseBody != string(res.body) {
		t.Fatalf("failure event %+v", ev)
	}
}

func TestEvents_NoneLostOnShutdown(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		const n = 60
		for i := range n {
			mustStatus(t, e.do(req{method: "GET", path: fmt.Sprintf("/Users?count=%d", i)}), http.StatusOK)
		}
		e.inflight.Wait()
		e.stop()
		if got := len(listEvents(t, db, e.org.ID, scimbridge.EventIdP)); got != n {
			t.Fatalf("%d events after shutdown, want %d", got, n)
		}
		if st := e.srv.Stats(); st.EventsWritten != n || st.EventWriteFailures != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestEvents_AggregatesRepeatedRefusals(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, storetest.OpenSQLite(t), func(c *Config) { c.Clock = clock.Now })
	bad := "scb_acme_" + strings.Repeat("0", 43)
	for range 14 {
		mustStatus(t, e.do(req{method: "GET", path: "/Users", token: bad}), http.StatusUnauthorized)
		clock.Add(time.Second)
	}
	e.inflight.Wait()
	e.stop()
	var rows, requests int
	for _, ev := range listEvents(t, e.db, e.org.ID, scimbridge.EventIdP) {
		rows++
		requests += ev.Count
	}
	if rows != 11 || requests != 14 {
		t.Fatalf("%d rows standing for %d requests, want 11 for 14", rows, requests)
	}
	if st := e.srv.Stats(); st.EventsAggregated != 4 {
		t.Fatalf("stats %+v", st)
	}
}
