package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

func TestDirectory_ListUsers(t *testing.T) {
	ctx := context.Background()

	t.Run("ServiceAccount", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetAdmin(adminEmail)
		e.fake.SetUsers(fakegoogle.GenerateUsers(10, 1))
		d := e.directory(t, e.serviceAccount(t))
		l, err := d.ListUsers(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Users) != 10 || l.Pages != 1 || l.Retries != 0 {
			t.Fatalf("listing: %d users, %d pages, %d retries; want 10, 1, 0", len(l.Users), l.Pages, l.Retries)
		}
		if got := e.fake.LastSubject(); got != adminEmail {
			t.Fatalf("JWT subject = %q, want %q", got, adminEmail)
		}
		if got := e.fake.TokenRequests(); got != 1 {
			t.Fatalf("token requests = %d, want 1", got)
		}
		q := e.fake.LastQuery()
		for k, want := range map[string]string{"customer": "my_customer", "projection": "full", "maxResults": "500"} {
			if q.Get(k) != want {
				t.Errorf("query %s = %q, want %q", k, q.Get(k), want)
			}
		}
		if q.Get("showDeleted") != "" {
			t.Errorf("showDeleted sent on a normal listing: %q", q.Get("showDeleted"))
		}
		// A second listing reuses the token.
		if _, err := d.ListUsers(ctx, "", false); err != nil {
			t.Fatal(err)
		}
		if got := e.fake.TokenRequests(); got != 1 {
			t.Fatalf("token requests after two listings = %d, want 1", got)
		}
	})

	t.Run("OAuthRefreshToken", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(3, 1))
		l, err := e.directory(t, e.oauth(t)).ListUsers(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Users) != 3 || e.fake.TokenRequests() != 1 {
			t.Fatalf("%d users, %d token requests; want 3, 1", len(l.Users), e.fake.TokenRequests())
		}
	})

	t.Run("Paging", func(t *testing.T) {
		e := newFakeEnv(t)
		users := fakegoogle.GenerateUsers(1234, 7)
		e.fake.SetUsers(users)
		l, err := e.directory(t, e.serviceAccount(t)).ListUsers(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if l.Pages != 3 || e.fake.Pages() != 3 {
			t.Fatalf("pages = %d (fake served %d), want 3", l.Pages, e.fake.Pages())
		}
		if len(l.Users) != len(users) {
			t.Fatalf("users = %d, want %d", len(l.Users), len(users))
		}
		seen := map[string]bool{}
		for i, u := range l.Users {
			if u.ID != users[i].Id || u.PrimaryEmail != users[i].PrimaryEmail {
				t.Fatalf("user %d = %s %s, want %s %s", i, u.ID, u.PrimaryEmail, users[i].Id, users[i].PrimaryEmail)
			}
			if len(u.ID) != 21 || seen[u.ID] {
				t.Fatalf("user %d id %q: not a unique 21-digit id", i, u.ID)
			}
			seen[u.ID] = true
		}
	})

	t.Run("ShowDeleted", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(5, 1))
		gone := fakegoogle.GenerateUsers(2, 2)
		gone[0].DeletionTime = "2026-01-02T03:04:05.000Z"
		e.fake.SetDeleted(gone)
		l, err := e.directory(t, e.serviceAccount(t)).ListUsers(ctx, "", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Users) != 2 || e.fake.ShowDeletedPages() != 1 || e.fake.LastQuery().Get("showDeleted") != "true" {
			t.Fatalf("%d users, %d showDeleted pages, showDeleted=%q", len(l.Users), e.fake.ShowDeletedPages(), e.fake.LastQuery().Get("showDeleted"))
		}
		for _, u := range l.Users {
			if !u.Deleted {
				t.Fatalf("user %s listed with showDeleted is not marked deleted", u.ID)
			}
		}
	})

	t.Run("Customer", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(2, 1))
		d := e.directory(t, e.serviceAccount(t))
		if _, err := d.ListUsers(ctx, fakegoogle.DefaultCustomerID, false); err != nil {
			t.Fatal(err)
		}
		if got := e.fake.LastQuery().Get("customer"); got != fakegoogle.DefaultCustomerID {
			t.Fatalf("customer = %q", got)
		}
		_, err := d.ListUsers(ctx, "C0nope", false)
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
			t.Fatalf("unknown customer: err = %v, want a permanent 400", err)
		}
	})

	t.Run("FieldsMaskKeepsMapping", func(t *testing.T) {
		e := newFakeEnv(t)
		u := &admin.User{
			Id: "112233445566778899001", PrimaryEmail: "ada@example.com", Aliases: []string{"countess@example.com"},
			NonEditableAliases: []string{"ada@example.test"},
			Name:               &admin.UserName{GivenName: "Ada", FamilyName: "Lovelace", FullName: "Ada King Lovelace"},
			Suspended:          true, Archived: true, IsGuestUser: true, OrgUnitPath: "/Engineering/Analytical",
			Organizations: []admin.UserOrganization{
				{Name: "Other", Title: "Advisor"},
				{Name: "Example Corp", Title: "Engineer", Department: "R&D", CostCenter: "CC-1", Description: "Employee", Primary: true, Type: "work"},
			},
			ExternalIds:   []admin.UserExternalId{{Type: "custom", CustomType: "badge", Value: "B1"}, {Type: "organization", Value: "E0001"}},
			Relations:     []admin.UserRelation{{Type: "assistant", Value: "x@example.com"}, {Type: "manager", Value: "babbage@example.com"}},
			Languages:     []admin.UserLanguage{{LanguageCode: "en", Preference: "not_preferred"}, {LanguageCode: "fr", Preference: "preferred"}},
			Phones:        []admin.UserPhone{{Value: "+1 555 0100", Type: "work"}},
			RecoveryEmail: "secret-recovery@example.net",
		}
		e.fake.SetUsers([]*admin.User{u})
		l, err := e.directory(t, e.serviceAccount(t)).ListUsers(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		fields := e.fake.LastQuery().Get("fields")
		for _, f := range []string{"nextPageToken", "suspended", "archived", "orgUnitPath"} {
			if !strings.Contains(fields, f) {
				t.Errorf("fields mask %q lacks %s", fields, f)
			}
		}
		want := bridge.GoogleUser{
			ID: u.Id, PrimaryEmail: u.PrimaryEmail, Aliases: []string{"countess@example.com", "ada@example.test"},
			GivenName: "Ada", FamilyName: "Lovelace", FullName: "Ada King Lovelace",
			Suspended: true, Archived: true, IsGuest: true, OrgUnitPath: "/Engineering/Analytical",
			Organizations: []bridge.Organization{
				{Name: "Other", Title: "Advisor"},
				{Name: "Example Corp", Title: "Engineer", Department: "R&D", CostCenter: "CC-1", Description: "Employee", Primary: true, Type: "work"},
			},
			ExternalIDs: []bridge.ExternalID{{Type: "custom", CustomType: "badge", Value: "B1"}, {Type: "organization", Value: "E0001"}},
			Relations:   []bridge.Relation{{Type: "assistant", Value: "x@example.com"}, {Type: "manager", Value: "babbage@example.com"}},
			Languages:   []bridge.Language{{LanguageCode: "en", Preference: "not_preferred"}, {LanguageCode: "fr", Preference: "preferred"}},
		}
		if len(l.Users) != 1 {
			t.Fatalf("users = %d", len(l.Users))
		}
		if got := fmt.Sprintf("%+v", l.Users[0]); got != fmt.Sprintf("%+v", want) {
			t.Fatalf("listed user\n got %s\nwant %s", got, fmt.Sprintf("%+v", want))
		}
		p := bridge.MapUser(l.Users[0])
		if p.Title != "Engineer" || p.EmployeeNumber != "E0001" || p.Manager != "babbage@example.com" ||
			p.PreferredLanguage != "fr" || p.Active || p.GoogleID != u.Id {
			t.Fatalf("mapped profile %+v", p)
		}
	})
}

func TestParseServiceAccount(t *testing.T) {
	e := newFakeEnv(t)
	key := e.fake.ServiceAccountKey(e.ep.TokenURL)

	t.Run("Valid", func(t *testing.T) {
		c, err := bridge.ParseServiceAccount(key, adminEmail, e.ep.TokenURL)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != bridge.KindServiceAccount || c.AdminEmail != adminEmail || string(c.JSON) != string(key) {
			t.Fatalf("credentials %s", c)
		}
		for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
			if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "fake-project") {
				t.Fatalf("formatted credentials show key material: %s", s)
			}
		}
	})

	t.Run("TokenURIMismatch", func(t *testing.T) {
		other := e.fake.ServiceAccountKey("https://attacker.example/token")
		_, err := bridge.ParseServiceAccount(other, adminEmail, e.ep.TokenURL)
		if err == nil || !strings.Contains(err.Error(), "token_uri") || !strings.Contains(err.Error(), "attacker.example") {
			t.Fatalf("err = %v, want a token_uri mismatch", err)
		}
		// NewDirectory checks again, against the daemon's current setting.
		c, err := bridge.ParseServiceAccount(other, adminEmail, "https://attacker.example/token")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bridge.NewDirectory(context.Background(), c, e.ep, nil, nil, nil); err == nil {
			t.Fatal("NewDirectory accepted a key whose token_uri is not the configured token URL")
		}
		e.fake.ServiceAccountKey(e.ep.TokenURL)
	})

	t.Run("Invalid", func(t *testing.T) {
		cases := map[string]struct {
			key   string
			admin string
		}{
			"NotJSON":      {key: "-----BEGIN PRIVATE KEY-----", admin: adminEmail},
			"WrongType":    {key: strings.Replace(string(key), `"service_account"`, `"authorized_user"`, 1), admin: adminEmail},
			"NoAdmin":      {key: string(key), admin: ""},
			"AdminNotMail": {key: string(key), admin: "not an address"},
			"BadKey":       {key: `{"type":"service_account","client_email":"a@b.c","private_key":"nope"}`, admin: adminEmail},
			"NoEmail":      {key: `{"type":"service_account","private_key":"nope"}`, admin: adminEmail},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := bridge.ParseServiceAccount([]byte(tc.key), tc.admin, e.ep.TokenURL)
				if err == nil {
					t.Fatal("accepted")
				}
				if strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Fatalf("error shows key material: %v", err)
				}
			})
		}
	})
}

func TestParseOAuthRefreshToken(t *testing.T) {
	const tokenURL = "https://oauth2.example.test/token"
	cases := map[string]struct {
		file string
		ok   bool
	}{
		"Valid":          {`{"client_id":"id","client_secret":"s","refresh_token":"r"}`, true},
		"AuthorizedUser": {`{"type":"authorized_user","client_id":"id","client_secret":"s","refresh_token":"r","token_uri":"https://oauth2.example.test/token"}`, true},
		"MissingSecret":  {`{"client_id":"id","refresh_token":"r"}`, false},
		"MissingToken":   {`{"client_id":"id","client_secret":"s"}`, false},
		"OtherTokenURI":  {`{"client_id":"id","client_secret":"s","refresh_token":"r","token_uri":"https://evil.example/token"}`, false},
		"OtherType":      {`{"type":"service_account","client_id":"id","client_secret":"s","refresh_token":"r"}`, false},
		"NotJSON":        {`refresh_token=r`, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := bridge.ParseOAuthRefreshToken([]byte(tc.file), tokenURL)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (c.Kind != bridge.KindOAuth || string(c.JSON) != tc.file) {
				t.Fatalf("credentials %+v", c)
			}
		})
	}
}

func TestDirectory_Check(t *testing.T) {
	ctx := context.Background()
	e := newFakeEnv(t)
	e.fake.SetUsers(fakegoogle.GenerateUsers(3, 1))
	d := e.directory(t, e.serviceAccount(t))

	t.Run("OK", func(t *testing.T) {
		if err := d.Check(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if got := e.fake.LastQuery().Get("maxResults"); got != "1" {
			t.Fatalf("maxResults = %q, want 1", got)
		}
	})

	t.Run("GoogleMessage", func(t *testing.T) {
		e.fake.FailAll(http.StatusForbidden, "forbidden", "Not Authorized to access this resource/api")
		defer e.fake.ClearFailures()
		err := d.Check(ctx, "")
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Message != "Not Authorized to access this resource/api" {
			t.Fatalf("err = %v, want Google's message", err)
		}
	})

	t.Run("BadAdmin", func(t *testing.T) {
		e2 := newFakeEnv(t)
		e2.fake.SetAdmin("someone-else@example.com")
		err := e2.directory(t, e2.serviceAccount(t)).Check(ctx, "")
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Reason != "invalid_grant" || pe.Message != "Invalid email or User ID" {
			t.Fatalf("err = %v, want invalid_grant with Google's description", err)
		}
		if e2.fake.Requests() != 0 || e2.fake.TokenRequests() != 1 {
			t.Fatalf("%d API, %d token requests; want 0, 1", e2.fake.Requests(), e2.fake.TokenRequests())
		}
	})
}

func TestNewDirectory_Endpoints(t *testing.T) {
	e := newFakeEnv(t)
	creds := e.serviceAccount(t)
	for name, ep := range map[string]bridge.Endpoints{
		"NoAPI":       {TokenURL: e.ep.TokenURL},
		"NoToken":     {APIEndpoint: e.ep.APIEndpoint},
		"NotHTTP":     {APIEndpoint: "ftp://x/", TokenURL: e.ep.TokenURL},
		"RelativeAPI": {APIEndpoint: "/admin", TokenURL: e.ep.TokenURL},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := bridge.NewDirectory(context.Background(), creds, ep, nil, nil, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("UnknownKind", func(t *testing.T) {
		if _, err := bridge.NewDirectory(context.Background(), bridge.Credentials{Kind: "api_key"}, e.ep, nil, nil, nil); err == nil {
			t.Fatal("accepted")
		}
	})
}
