package storetest

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// personalValues are fragments of every personal value of adaProfile.
var personalValues = []string{"ada", "lovelace", "1815", "james", "7946", "analyst", "countess", "home.example"}

// adaProfile is a profile with a personal value in every attribute kind.
func adaProfile(orgID string) scimbridge.Profile {
	p := newProfile(orgID, "ada.lovelace@acme.example")
	p.Emails = append(p.Emails, scimbridge.Email{Value: "ada.private@home.example", Type: "home"})
	a := &p.Attributes
	a.DisplayName, a.GivenName, a.FamilyName, a.Formatted = "Ada Lovelace", "Ada", "Lovelace", "Countess Ada Lovelace"
	a.Title, a.NickName, a.EmployeeNumber, a.Department = "Analyst", "Countess", "EMP-1815", "Analyst Engines"
	a.PhoneNumbers = []scimbridge.PhoneNumber{{Value: "+44 20 7946 1815", Type: "work"}}
	a.Addresses = []scimbridge.Address{{StreetAddress: "12 St James Square", Locality: "London", Type: "home"}}
	p.ExternalID, p.GoogleID = "ext-ada-1815", "g-1815"
	return p
}

// rowsText returns every row of the query with each column as text.
func rowsText(t *testing.T, s scimbridge.Store, query string, args ...any) []string {
	t.Helper()
	r := raw(t, s)
	rows, err := r.SQLX().Queryx(rebindQ(r, query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for k, v := range m {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", k, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// uuidText matches a generated identifier, which is not personal but is hex:
// "ada", "1815" and "7946" turn up in random identifiers now and then.
var uuidText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// personalIn returns the rows holding a personal value of adaProfile.
func personalIn(rows []string) []string {
	var out []string
	for _, r := range rows {
		low := uuidText.ReplaceAllString(strings.ToLower(r), "<id>")
		for _, v := range personalValues {
			if strings.Contains(low, v) {
				out = append(out, v+" in "+r)
			}
		}
	}
	return out
}

func testEraseProfile(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	ada := create(t, s, adaProfile(org.ID))
	twin := create(t, s, adaProfile(other.ID)) // the same person in another organization
	bob := create(t, s, newProfile(org.ID, "bob@acme.example"))
	g := createGroup(t, s, newGroup(org.ID, "Staff", scimbridge.SourceSCIM), ada.ID, bob.ID)
	body := `{"userName":"ada.lovelace@acme.example","name":{"familyName":"Lovelace"}}`
	var evs []scimbridge.Event
	for _, o := range []scimbridge.Organization{org, other} {
		id := ada.ID
		if o.ID == other.ID {
			id = twin.ID
		}
		evs = append(evs,
			scimbridge.Event{OrgID: o.ID, Time: base, Method: "GET", Path: "/scim/v2/Users/" + id, Status: 200,
				TargetUserName: ada.UserName, Source: scimbridge.EventIdP, ResponseBody: body},
			scimbridge.Event{OrgID: o.ID, Time: base, Method: "POST", Path: "/scim/v2/Users", Status: 409,
				TargetUserName: ada.UserName, Source: scimbridge.EventIdP, RequestBody: body,
				Error: "userName ada.lovelace@acme.example is already in use"},
			scimbridge.Event{OrgID: o.ID, Time: base, Method: "GET",
				Path: `/scim/v2/Users?filter=userName+eq+"ada.lovelace@acme.example"`, Status: 200,
				TargetUserName: ada.UserName, Source: scimbridge.EventIdP, ResponseBody: body},
			scimbridge.Event{OrgID: o.ID, Time: base, Method: "PATCH", Path: "/scim/v2/Users/" + id, Status: 200,
				Source: scimbridge.EventIdP, RequestBody: `{"Operations":[{"op":"replace","path":"title","value":"Analyst"}]}`},
			scimbridge.Event{OrgID: o.ID, Time: base, Method: "GET", Path: "/scim/v2/Users/" + bob.ID, Status: 200,
				TargetUserName: bob.UserName, Source: scimbridge.EventIdP, ResponseBody: `{"userName":"bob@acme.example"}`})
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	reports := map[string]string{}
	for _, o := range []scimbridge.Organization{org, other} {
		id := ada.ID
		if o.ID == other.ID {
			id = twin.ID
		}
		r := scimbridge.Report{ID: uuid.NewString(), OrgID: o.ID, Trigger: scimbridge.TriggerManual,
			Status: scimbridge.ReportApplied, StartedAt: base, Items: []scimbridge.ReportItem{
				{Kind: scimbridge.ChangeUpdate, ProfileID: id, GoogleID: "g-1815", UserName: ada.UserName,
					Fields: []scimbridge.FieldChange{{Field: "title", Before: "Countess", After: "Analyst"}}},
				{Kind: "skip", GoogleID: "g-1815", UserName: strings.ToUpper(ada.UserName), Reason: "excluded"},
				{Kind: scimbridge.ChangeCreate, ProfileID: bob.ID, UserName: bob.UserName},
			}}
		if err := s.PutReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		reports[o.ID] = r.ID
	}
	erase := func(orgID, id string) (scimbridge.EraseKeys, bool, int) {
		t.Helper()
		ev := scimbridge.Event{Time: at(time.Hour), Method: "POST", Path: "/api/admin/v1/orgs/acme/users/" + id + "/erase",
			Status: 200, Source: scimbridge.EventAdmin, Actor: "cli:root", OrgID: orgID}
		keys, erased, err := s.EraseProfile(ctx, orgID, id, at(time.Hour), ev)
		if err != nil {
			t.Fatalf("erase: %v", err)
		}
		n, err := s.EraseEvents(ctx, orgID, keys, 2)
		if err != nil {
			t.Fatalf("erase events: %v", err)
		}
		items, err := s.EraseReportItems(ctx, orgID, keys)
		if err != nil {
			t.Fatalf("erase report items: %v", err)
		}
		return keys, erased, n + 100*items
	}

	t.Run("OtherOrganization", func(t *testing.T) {
		_, _, err := s.EraseProfile(ctx, other.ID, ada.ID, at(time.Hour), adminEvent("erase"))
		wantCode(t, err, scimbridge.ENOTFOUND)
		_, _, err = s.EraseProfile(ctx, org.ID, "not-a-uuid", at(time.Hour), adminEvent("erase"))
		wantCode(t, err, scimbridge.ENOTFOUND)
	})
	keys, erased, n := erase(org.ID, ada.ID)
	if !erased || keys.ProfileID != ada.ID || !slices.Contains(keys.UserNames, ada.UserName) {
		t.Errorf("erase = %+v, %v", keys, erased)
	}
	// The create event (by profile_id), the GET, 409, filtered GET and
	// PATCH (by path or target username); the update item (by profile id)
	// and the skip (by username).
	if n != 5+100*2 {
		t.Errorf("erased events + 100 x report items = %d, want 205", n)
	}

	t.Run("NoPersonalValueLeft", func(t *testing.T) {
		if bad := personalIn(rowsText(t, s, `SELECT * FROM profiles WHERE id = ?`, ada.ID)); len(bad) > 0 {
			t.Errorf("profile row keeps personal values: %v", bad)
		}
		if rows := rowsText(t, s, `SELECT * FROM profile_emails WHERE profile_id = ?`, ada.ID); len(rows) > 0 {
			t.Errorf("emails left: %v", rows)
		}
		if bad := personalIn(rowsText(t, s, `SELECT * FROM events WHERE org_id = ?`, org.ID)); len(bad) > 0 {
			t.Errorf("events keep personal values: %v", bad)
		}
		items := rowsText(t, s, `SELECT * FROM report_items WHERE report_id = ?`, reports[org.ID])
		if bad := personalIn(items); len(bad) > 0 || len(items) != 3 || !strings.Contains(strings.Join(items, ""), "bob@acme") {
			t.Errorf("report items keep personal values: %v (%v)", bad, items)
		}
		if rows := rowsText(t, s, `SELECT * FROM group_members WHERE profile_id = ?`, ada.ID); len(rows) > 0 {
			t.Errorf("memberships left: %v", rows)
		}
		if bad := personalIn(rowsText(t, s, `SELECT * FROM changes WHERE org_id = ?`, org.ID)); len(bad) > 0 {
			t.Errorf("change records keep personal values: %v", bad)
		}
	})
	t.Run("FeedSaysErased", func(t *testing.T) {
		var erasedRecs, left int
		// On PostgreSQL another transaction on the server may hold the
		// feed back for a while after Settle's mark: read until both
		// records show, for up to a minute.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			erasedRecs, left = 0, 0
			for _, r := range feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 100) {
				switch {
				case r.Type == scimbridge.ChangeUserErased && r.ResourceID == ada.ID && len(r.Resource) == 0:
					erasedRecs++
				case r.Type == scimbridge.ChangeMemberRemoved && r.UserID == ada.ID && r.GroupID == g.ID:
					left++
				}
			}
			if (erasedRecs == 1 && left == 1) || time.Now().After(deadline) {
				break
			}
		}
		if erasedRecs != 1 || left != 1 {
			t.Errorf("feed has %d user.erased and %d member_removed records of the erased person, want 1 and 1", erasedRecs, left)
		}
	})
	t.Run("Tombstone", func(t *testing.T) {
		p := mustGet(t, s, org.ID, ada.ID)
		if p.UserName != "" || p.Email != "" || p.Active() || !p.Detached() || !p.AccessRevoked ||
			p.Version != ada.Version+1 || !reflect.DeepEqual(p.Attributes, scimbridge.Attributes{}) {
			t.Errorf("tombstone = %+v", p)
		}
		if got := memberIDs(t, s, org.ID, g.ID); !reflect.DeepEqual(got, []string{bob.ID}) {
			t.Errorf("members = %v, want bob only", got)
		}
		if gv := mustGroup(t, s, org.ID, g.ID).Version; gv != g.Version+1 {
			t.Errorf("group version = %d, want %d", gv, g.Version+1)
		}
		e, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventAdmin})
		if err != nil || len(e.Events) != 1 || e.Events[0].Actor != "cli:root" {
			t.Errorf("erasure events = %+v, %v", e.Events, err)
		}
		page, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Method: "POST", StatusClass: 4})
		if len(page.Events) != 1 || page.Events[0].RequestBody != scimbridge.ErasedMarker ||
			page.Events[0].Error != scimbridge.ErasedMarker || page.Events[0].Path != "/scim/v2/Users" {
			t.Errorf("erased 409 = %+v", page.Events)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		_, erased, n := erase(org.ID, ada.ID)
		if erased || n != 0 {
			t.Errorf("second erase = %v, %d events", erased, n)
		}
		e, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventAdmin})
		if len(e.Events) != 1 {
			t.Errorf("erasure events after a second erase = %d, want 1", len(e.Events))
		}
	})
	t.Run("Reuse", func(t *testing.T) {
		again := adaProfile(org.ID)
		if err := tryCreate(s, again); err != nil {
			t.Errorf("userName and email not free after erasure: %v", err)
		}
		got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, IncludeDetached: true}, 10)
		if len(got) != 3 {
			t.Errorf("directory = %v, want the tombstone, bob and the new profile", got)
		}
	})
	t.Run("TenantIsolation", func(t *testing.T) {
		if got := mustGet(t, s, other.ID, twin.ID); !reflect.DeepEqual(got, stored(twin)) {
			t.Errorf("other organization's profile changed:\n got %+v\nwant %+v", got, stored(twin))
		}
		rows := rowsText(t, s, `SELECT * FROM events WHERE org_id = ?`, other.ID)
		if bad := personalIn(rows); len(bad) < 5 {
			t.Errorf("other organization's events lost their values: %v", rows)
		}
		if strings.Contains(strings.Join(rows, "\n"), scimbridge.ErasedMarker) {
			t.Errorf("other organization's events erased: %v", rows)
		}
		items := rowsText(t, s, `SELECT * FROM report_items WHERE report_id = ?`, reports[other.ID])
		if bad := personalIn(items); len(bad) < 2 {
			t.Errorf("other organization's report items lost their values: %v", items)
		}
	})
}

// seedOrganization gives org a row in every kind of table: profiles with
// emails, a group with members, events, a report with items, a held plan,
// a SCIM configuration, an admin token, a bridge and a lease. It returns
// the report's id.
func seedOrganization(t *testing.T, s scimbridge.Store, org scimbridge.Organization) string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := 0; i < 12; i++ {
		p := create(t, s, newProfile(org.ID, fmt.Sprintf("p%d@%s.example", i, org.Slug)))
		ids = append(ids, p.ID)
	}
	createGroup(t, s, newGroup(org.ID, "Everyone", scimbridge.SourceSCIM), ids...)
	createGroup(t, s, newGroup(org.ID, "Few", scimbridge.SourceGoogle), ids[:3]...)
	var evs []scimbridge.Event
	for i := 0; i < 25; i++ {
		evs = append(evs, scimbridge.Event{OrgID: org.ID, Time: at(time.Duration(i) * time.Second), Method: "GET",
			Path: "/scim/v2/Users", Status: 200, Source: scimbridge.EventIdP})
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	r := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual,
		Status: scimbridge.ReportHeld, StartedAt: base}
	for i := 0; i < 9; i++ {
		r.Items = append(r.Items, scimbridge.ReportItem{Kind: scimbridge.ChangeDeactivate, UserName: fmt.Sprint(i)})
	}
	if err := s.PutReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHeldPlan(ctx, org.ID, r.ID, []byte(`{}`), at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, hash := scimbridge.NewSCIMToken(org.Slug)
	if err := s.PutSCIMConfig(ctx, scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: base}, adminEvent("scim enable")); err != nil {
		t.Fatal(err)
	}
	_, ah := scimbridge.NewAdminToken()
	tokenID := uuid.NewString()
	if err := s.CreateAdminToken(ctx, scimbridge.AdminToken{ID: tokenID, OrgID: org.ID, Role: scimbridge.AdminOwner,
		TokenHash: ah, CreatedAt: base}, adminEvent("admin-token create")); err != nil {
		t.Fatal(err)
	}
	seedConsole(t, s, org, tokenID)
	if err := s.PutBridge(ctx, scimbridge.Bridge{OrgID: org.ID, Settings: scimbridge.BridgeSettings{Mode: scimbridge.ModeSync},
		CreatedAt: base, UpdatedAt: base}, adminEvent("bridge set")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AcquireLease(ctx, scimbridge.Lease{OrgID: org.ID, RunID: "run", Holder: "h",
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	seedWebhook(t, s, org)
	return r.ID
}

// ownedTableNames lists the tables with an org_id column, from the schema.
func ownedTableNames(t *testing.T, s scimbridge.Store) []string {
	t.Helper()
	r := raw(t, s)
	var names []string
	q := `SELECT m.name FROM sqlite_master m WHERE m.type = 'table'
		AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'org_id') ORDER BY m.name`
	if r.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()
			AND column_name = 'org_id' ORDER BY table_name`
	}
	if err := r.SQLX().Select(&names, q); err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("owned tables = %v: the schema query finds too few", names)
	}
	return names
}

// orgRows counts each owned table's rows of the organization.
func orgRows(t *testing.T, s scimbridge.Store, tables []string, orgID string) map[string]int {
	t.Helper()
	r := raw(t, s)
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := r.SQLX().Get(&n, rebindQ(r, `SELECT COUNT(*) FROM "`+tb+`" WHERE org_id = ?`), orgID); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

func testDeleteOrganization(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	report := seedOrganization(t, s, org)
	otherReport := seedOrganization(t, s, other)
	tables := ownedTableNames(t, s)
	before := orgRows(t, s, tables, org.ID)
	otherBefore := orgRows(t, s, tables, other.ID)
	for _, tb := range tables {
		if tb != "organizations" && before[tb] == 0 {
			t.Errorf("the fixture has no row in %s: the test would not see it left behind", tb)
		}
	}
	ev := scimbridge.Event{OrgID: org.ID, Time: at(time.Hour), Method: "DELETE", Path: "/api/admin/v1/orgs/acme",
		Status: 204, Source: scimbridge.EventAdmin, Actor: "operator", RequestBody: `{"slug":"acme"}`}
	del, err := s.DeleteOrganization(ctx, org.ID, 7, ev)
	if err != nil {
		t.Fatal(err)
	}
	if del.Rows["events"] < 25 || del.Rows["profiles"] != 12 || del.Rows["organizations"] != 1 {
		t.Errorf("rows removed = %v", del.Rows)
	}
	if left := orgRows(t, s, tables, org.ID); !reflect.DeepEqual(left, zeroes(tables)) {
		t.Errorf("rows left of the deleted organization: %v", left)
	}
	r := raw(t, s)
	var items int
	if err := r.SQLX().Get(&items, rebindQ(r, `SELECT COUNT(*) FROM report_items WHERE report_id = ?`), report); err != nil || items != 0 {
		t.Errorf("report items left = %d, %v", items, err)
	}
	if err := r.SQLX().Get(&items, rebindQ(r, `SELECT COUNT(*) FROM report_items WHERE report_id = ?`), otherReport); err != nil || items != 9 {
		t.Errorf("other organization's report items = %d, %v", items, err)
	}
	if after := orgRows(t, s, tables, other.ID); !reflect.DeepEqual(after, otherBefore) {
		t.Errorf("other organization's rows changed:\n got %v\nwant %v", after, otherBefore)
	}
	_, err = s.Organization(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	page, err := s.ListEvents(ctx, scimbridge.EventQuery{})
	if err != nil || len(page.Events) != 1 || page.Events[0].Path != ev.Path || page.Events[0].Actor != "operator" ||
		!strings.Contains(page.Events[0].ResponseBody, `"profiles":12`) {
		t.Errorf("the deletion's event = %+v, %v", page.Events, err)
	}
	_, err = s.DeleteOrganization(ctx, org.ID, 7, ev)
	wantCode(t, err, scimbridge.ENOTFOUND)
	if ps, err := s.DirectoryUsers(ctx, scimbridge.DirectoryQuery{OrgID: other.ID, Limit: 100}); err != nil || len(ps) != 12 {
		t.Errorf("other organization's users = %d, %v", len(ps), err)
	}
}

func zeroes(tables []string) map[string]int {
	out := map[string]int{}
	for _, tb := range tables {
		out[tb] = 0
	}
	return out
}

// testOwnedTablesCascade checks that a table referencing an organization's
// rows either has its own org_id (deleted by it) or goes with the rows it
// references (ON DELETE CASCADE): no table is left that would block or
// survive an organization's deletion.
func testOwnedTablesCascade(t *testing.T, s scimbridge.Store) {
	r := raw(t, s)
	owned := map[string]bool{"organizations": true}
	for _, n := range ownedTableNames(t, s) {
		owned[n] = true
	}
	type fk struct {
		Child   string `db:"child"`
		Parent  string `db:"parent"`
		Cascade bool   `db:"cascade"`
	}
	var fks []fk
	q := `SELECT m.name AS child, f."table" AS parent, f.on_delete = 'CASCADE' AS cascade
		FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
	if r.Dialect() == "postgres" {
		q = `SELECT cl.relname AS child, pcl.relname AS parent, con.confdeltype = 'c' AS cascade
			FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class pcl ON pcl.oid = con.confrelid
			WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace`
	}
	if err := r.SQLX().Select(&fks, q); err != nil {
		t.Fatal(err)
	}
	if len(fks) < 5 {
		t.Fatalf("foreign keys = %v: the schema query finds too few", fks)
	}
	for _, f := range fks {
		if owned[f.Parent] && !owned[f.Child] && !f.Cascade {
			t.Errorf("%s references %s without org_id or ON DELETE CASCADE: deleting an organization would fail", f.Child, f.Parent)
		}
	}
}
