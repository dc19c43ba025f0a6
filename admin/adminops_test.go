package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

// addProfile creates an active SCIM profile with userName as its email.
func addProfile(t testing.TB, db *store.DB, orgID, userName string) scimbridge.Profile {
	t.Helper()
	now := time.Now().UTC()
	p := scimbridge.Profile{ID: uuid.NewString(), OrgID: orgID,
		Attributes: scimbridge.Attributes{UserName: userName, DisplayName: "Person " + userName,
			Emails: []scimbridge.Email{{Value: userName}}},
		Email: userName, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
	err := db.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: now, Method: "POST", Path: "/scim/v2/Users", Status: 201,
			TargetUserName: userName, Source: scimbridge.EventIdP, RequestBody: `{"userName":"` + userName + `"}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// twoOrgs creates acme and other with the same three people each.
func twoOrgs(t *testing.T, a *admin.Admin, db *store.DB) (acme, other scimbridge.Organization, people []scimbridge.Profile) {
	t.Helper()
	ctx := context.Background()
	var err error
	if acme, err = a.CreateOrg(ctx, by, "acme", ""); err != nil {
		t.Fatal(err)
	}
	if other, err = a.CreateOrg(ctx, by, "other", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ada@x.example", "bob@x.example", "carol@x.example"} {
		people = append(people, addProfile(t, db, acme.ID, u))
		addProfile(t, db, other.ID, u)
	}
	return acme, other, people
}

func TestAdmin_Users(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		acme, _, people := twoOrgs(t, a, db)
		var got []string
		q := admin.DirectoryQuery{Limit: 2}
		for {
			page, err := a.Users(ctx, "acme", q)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Users {
				if p.OrgID != acme.ID {
					t.Fatalf("user of another organization: %+v", p)
				}
				got = append(got, p.UserName)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		if len(got) != len(people) {
			t.Errorf("users = %v", got)
		}
		page, err := a.Users(ctx, "acme", admin.DirectoryQuery{Search: "BO"})
		if err != nil || len(page.Users) != 1 || page.Users[0].UserName != "bob@x.example" || page.Next != "" {
			t.Errorf("search = %+v, %v", page, err)
		}
		_, err = a.Users(ctx, "acme", admin.DirectoryQuery{Limit: 1001})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = a.Users(ctx, "acme", admin.DirectoryQuery{After: "nonsense!"})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = a.Users(ctx, "acme", admin.DirectoryQuery{Source: "ldap"})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = a.Users(ctx, "nobody", admin.DirectoryQuery{})
		wantCode(t, err, scimbridge.ENOTFOUND)
		groups, err := a.Groups(ctx, "acme", admin.DirectoryQuery{})
		if err != nil || len(groups.Groups) != 0 {
			t.Errorf("groups = %+v, %v", groups, err)
		}
		// A users cursor is no groups cursor.
		first, _ := a.Users(ctx, "acme", admin.DirectoryQuery{Limit: 1})
		_, err = a.Groups(ctx, "acme", admin.DirectoryQuery{After: first.Next})
		wantCode(t, err, scimbridge.EINVALID)
	})
}

func TestAdmin_Events(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		acme, other, _ := twoOrgs(t, a, db)
		var evs []scimbridge.Event
		for i := 0; i < 2500; i++ {
			for _, o := range []scimbridge.Organization{acme, other} {
				evs = append(evs, scimbridge.Event{OrgID: o.ID, Time: time.Now().UTC(), Method: "GET",
					Path: "/scim/v2/Users/" + fmt.Sprint(i), Status: []int{200, 404}[i%2],
					TargetUserName: fmt.Sprintf("u%d@x", i%10), Source: scimbridge.EventIdP, ResponseBody: "body,\"quoted\"\nline"})
			}
		}
		if err := db.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		page, err := a.Events(ctx, "acme", admin.EventQuery{StatusClass: 4, UserName: "U3@X", Limit: 50})
		if err != nil || len(page.Events) != 50 || page.Next == "" {
			t.Fatalf("page = %d events, next %q, %v", len(page.Events), page.Next, err)
		}
		n := len(page.Events)
		for page.Next != "" {
			page, err = a.Events(ctx, "acme", admin.EventQuery{StatusClass: 4, UserName: "u3@x", Limit: 50, After: page.Next})
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Events)
		}
		if n != 250 {
			t.Errorf("4xx events of u3 = %d, want 250", n)
		}
		_, err = a.Events(ctx, "acme", admin.EventQuery{StatusClass: 7})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = a.Events(ctx, "acme", admin.EventQuery{Source: "ldap"})
		wantCode(t, err, scimbridge.EINVALID)

		mine, _ := a.Events(ctx, "acme", admin.EventQuery{Limit: 1})
		theirs, _ := a.Events(ctx, "other", admin.EventQuery{Limit: 1})
		if e, err := a.Event(ctx, "acme", mine.Events[0].ID); err != nil || e.ResponseBody == "" {
			t.Errorf("event = %+v, %v", e, err)
		}
		_, err = a.Event(ctx, "acme", theirs.Events[0].ID)
		wantCode(t, err, scimbridge.ENOTFOUND)

		var out flushCounter
		if err := a.WriteEventsCSV(ctx, &out, "acme", admin.EventQuery{StatusClass: 2, PathPrefix: "/scim/v2/Users/", Limit: 5}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+1250 || strings.Join(rows[0], ",") != strings.Join(admin.EventsCSVHeader, ",") {
			t.Errorf("CSV has %d rows, header %v", len(rows), rows[0])
		}
		for _, r := range rows[1:] {
			if r[5] != "200" || r[18] != "body,\"quoted\"\nline" {
				t.Fatalf("CSV row = %v", r)
			}
		}
		// Written a page at a time, not once at the end.
		if out.writes < 2 {
			t.Errorf("CSV written in %d writes", out.writes)
		}
	})
}

// flushCounter is a buffer that counts the writes it gets.
type flushCounter struct {
	bytes.Buffer
	writes int
}

func (f *flushCounter) Write(p []byte) (int, error) {
	f.writes++
	return f.Buffer.Write(p)
}

func TestAdmin_EraseProfile(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		acme, other, people := twoOrgs(t, a, db)
		ada := people[0]
		_, err := a.EraseProfile(ctx, by, "other", ada.ID)
		wantCode(t, err, scimbridge.ENOTFOUND)
		res, err := a.EraseProfile(ctx, by, "acme", ada.ID)
		if err != nil || res.AlreadyErased || res.Events != 1 {
			t.Fatalf("erase = %+v, %v", res, err)
		}
		ev := wantEvent(t, db, acme.ID, "POST", "/api/admin/v1/orgs/acme/users/"+ada.ID+"/erase", 200)
		if strings.Contains(ev.RequestBody+ev.ResponseBody+ev.TargetUserName, "ada@") {
			t.Errorf("the erasure's event names the person: %+v", ev)
		}
		page, _ := a.Events(ctx, "acme", admin.EventQuery{Source: scimbridge.EventIdP, PathPrefix: "/scim/v2/Users"})
		for _, e := range page.Events {
			if strings.Contains(e.RequestBody, "ada@") || e.TargetUserName == "ada@x.example" {
				t.Errorf("event keeps the person: %+v", e)
			}
		}
		res, err = a.EraseProfile(ctx, by, "acme", ada.ID)
		if err != nil || !res.AlreadyErased || res.Events != 0 {
			t.Errorf("second erase = %+v, %v", res, err)
		}
		users, _ := a.Users(ctx, "acme", admin.DirectoryQuery{Search: "ada"})
		if len(users.Users) != 0 {
			t.Errorf("erased profile found by its old userName: %+v", users.Users)
		}
		if users, _ := a.Users(ctx, "other", admin.DirectoryQuery{Search: "ada"}); len(users.Users) != 1 {
			t.Errorf("the other organization's ada is gone: %+v", users.Users)
		}
		addProfile(t, db, acme.ID, "ada@x.example") // the userName and email are free
		_ = other
	})
}

func TestAdmin_DeleteOrganization(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		var logs bytes.Buffer
		a.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		acme, other, _ := twoOrgs(t, a, db)
		if _, _, err := a.CreateAdminToken(ctx, by, "acme", scimbridge.AdminOwner, 0); err != nil {
			t.Fatal(err)
		}
		token, err := a.EnableSCIM(ctx, by, "acme")
		if err != nil {
			t.Fatal(err)
		}
		operator := admin.Caller{Actor: "operator", ClientIP: "192.0.2.9"}
		del, err := a.DeleteOrganization(ctx, operator, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if del.Rows["profiles"] != 3 || del.Rows["admin_tokens"] != 1 || del.Rows["scim_configs"] != 1 {
			t.Errorf("rows removed = %v", del.Rows)
		}
		_, err = a.Org(ctx, "acme")
		wantCode(t, err, scimbridge.ENOTFOUND)
		_, _, err = db.OrganizationSCIMConfig(ctx, "acme")
		wantCode(t, err, scimbridge.ENOTFOUND)
		_ = token
		// The deletion outlives the organization as an event of none.
		page, err := db.ListEvents(ctx, scimbridge.EventQuery{})
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("operator events = %+v, %v", page.Events, err)
		}
		ev := page.Events[0]
		if ev.Method != "DELETE" || ev.Path != "/api/admin/v1/orgs/acme" || ev.Actor != "operator" ||
			ev.ClientIP != "192.0.2.9" || !strings.Contains(ev.RequestBody, acme.ID) || ev.Status != 204 {
			t.Errorf("deletion event = %+v", ev)
		}
		if !strings.Contains(logs.String(), "organization deleted") || !strings.Contains(logs.String(), acme.ID) {
			t.Errorf("log = %s", logs.String())
		}
		if users, err := a.Users(ctx, "other", admin.DirectoryQuery{}); err != nil || len(users.Users) != 3 {
			t.Errorf("other organization's users = %+v, %v", users, err)
		}
		_, err = a.DeleteOrganization(ctx, operator, "acme")
		wantCode(t, err, scimbridge.ENOTFOUND)
		if _, err := a.CreateOrg(ctx, by, "acme", ""); err != nil {
			t.Errorf("slug not free again: %v", err)
		}
		if users, _ := a.Users(ctx, "acme", admin.DirectoryQuery{}); len(users.Users) != 0 {
			t.Errorf("a new acme sees the old one's users: %+v", users.Users)
		}
		_ = other
	})
}

func TestAdmin_ReportItems(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		acme, _, _ := twoOrgs(t, a, db)
		r := scimbridge.Report{ID: uuid.NewString(), OrgID: acme.ID, Trigger: scimbridge.TriggerManual,
			Status: scimbridge.ReportDryRun, StartedAt: time.Now().UTC()}
		for i := 0; i < 25; i++ {
			kind := scimbridge.ChangeCreate
			if i%5 == 0 {
				kind = scimbridge.ChangeDeactivate
			}
			r.Items = append(r.Items, scimbridge.ReportItem{Kind: kind, UserName: fmt.Sprint(i)})
		}
		if err := db.PutReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		var got []string
		after := ""
		for {
			page, err := a.ReportItems(ctx, "acme", r.ID, scimbridge.ChangeDeactivate, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				got = append(got, it.UserName)
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		if strings.Join(got, ",") != "0,5,10,15,20" {
			t.Errorf("deactivations = %v", got)
		}
		_, err := a.ReportItems(ctx, "other", r.ID, "", "", 10)
		wantCode(t, err, scimbridge.ENOTFOUND)
		_, err = a.ReportItems(ctx, "acme", r.ID, "Robert'); DROP", "", 10)
		wantCode(t, err, scimbridge.EINVALID)
		_, err = a.ReportItems(ctx, "acme", r.ID, "", "bad", 10)
		wantCode(t, err, scimbridge.EINVALID)
	})
}
