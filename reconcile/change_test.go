package reconcile

import (
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

var now = time.Date(2025, 3, 2, 9, 30, 0, 0, time.UTC)

func fieldNames(fs []scimbridge.FieldChange) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Field)
	}
	return out
}

func TestNewProfile(t *testing.T) {
	t.Run("Active", func(t *testing.T) {
		d := fullDesired()
		d.Emails = append(d.Emails, scimbridge.Email{Type: "blank"})
		local := now.In(time.FixedZone("X", 3600))
		p, err := NewProfile("org", scimbridge.SourceSCIM, Normalize(d), "id1", local)
		if err != nil {
			t.Fatal(err)
		}
		want := scimbridge.Profile{
			ID: "id1", OrgID: "org", Attributes: fullDesired().Attributes, Email: "alice@example.com",
			State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, ExternalID: "ext-1", GoogleID: fullDesired().GoogleID,
			Version: 1, Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now,
		}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("NewProfile =\n%+v\nwant\n%+v", p, want)
		}
		if p.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt not in UTC: %v", p.CreatedAt)
		}
	})
	t.Run("Inactive", func(t *testing.T) {
		d := desired("bob@x.com", "")
		d.Active = false
		p, err := NewProfile("org", scimbridge.SourceSCIM, Normalize(d), "id1", now)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != scimbridge.StateInactive || !p.AccessRevoked || p.DeactivatedAt == nil || !p.DeactivatedAt.Equal(now) {
			t.Errorf("state %q revoked %v deactivated %v", p.State, p.AccessRevoked, p.DeactivatedAt)
		}
		if p.Email != "bob@x.com" || p.Role != scimbridge.RoleMember {
			t.Errorf("email %q role %q", p.Email, p.Role)
		}
	})
	t.Run("GoogleStoresHash", func(t *testing.T) {
		p, err := NewProfile("org", scimbridge.SourceGoogle, Normalize(fullDesired()), "id1", now)
		if err != nil || p.DesiredHash != Hash(Normalize(fullDesired())) {
			t.Errorf("DesiredHash = %q, %v; want %q", p.DesiredHash, err, Hash(Normalize(fullDesired())))
		}
	})
	for _, tt := range []struct {
		name     string
		src      scimbridge.Source
		d        scimbridge.DesiredProfile
		scimType string
	}{
		{"NoEmail", scimbridge.SourceSCIM, desired("bob", ""), "invalidValue"},
		{"NoUserName", scimbridge.SourceSCIM, desired("", ""), "invalidValue"},
		{"NUL", scimbridge.SourceSCIM, desired("bob\x00@x.com", ""), "invalidValue"},
		{"UnknownSource", scimbridge.Source("ldap"), desired("bob@x.com", ""), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewProfile("org", tt.src, Normalize(tt.d), "id1", now)
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != tt.scimType {
				t.Errorf("error = %v, want invalid %q", err, tt.scimType)
			}
		})
	}
}

func TestUpdateKind(t *testing.T) {
	active := prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com")
	off := prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com", inactive)
	on, down := desired("a@x.com", ""), desired("a@x.com", "")
	down.Active = false
	for _, tt := range []struct {
		name   string
		stored scimbridge.Profile
		d      scimbridge.DesiredProfile
		want   scimbridge.ChangeKind
	}{
		{"ActiveStaysActive", active, on, scimbridge.ChangeUpdate},
		{"InactiveStaysInactive", off, down, scimbridge.ChangeUpdate},
		{"Deactivate", active, down, scimbridge.ChangeDeactivate},
		{"Reactivate", off, on, scimbridge.ChangeReactivate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := UpdateKind(tt.stored, Normalize(tt.d)); got != tt.want {
				t.Errorf("UpdateKind = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	scimAdmin := storedOf(fullDesired())
	scimAdmin.Email, scimAdmin.Role = "alice@example.com", scimbridge.RoleAdmin
	scimOwnerInactive := scimAdmin
	scimOwnerInactive.Role = scimbridge.RoleOwner
	inactive(&scimOwnerInactive)
	detachedAdmin := scimAdmin
	detachedAt(time.Hour)(&detachedAdmin)
	google := scimAdmin
	google.Source = scimbridge.SourceGoogle

	same := fullDesired()
	retitled := fullDesired()
	retitled.Title = "Manager"
	off := fullDesired()
	off.Active = false
	newEmail := fullDesired()
	newEmail.Emails = []scimbridge.Email{{Value: "a2@example.com", Type: "work"}}
	renamed := fullDesired()
	renamed.UserName = "alice2@example.com"

	tests := []struct {
		name        string
		stored      scimbridge.Profile
		d           scimbridge.DesiredProfile
		kind        scimbridge.ChangeKind
		fields      []string
		state       scimbridge.State
		role        scimbridge.Role
		deactivated *time.Time // nil: expect nil
		detached    bool
		email       string
		reason      string
	}{
		{name: "Unchanged", stored: scimAdmin, d: same, kind: scimbridge.ChangeUpdate,
			state: scimbridge.StateActive, role: scimbridge.RoleAdmin, email: "alice@example.com"},
		{name: "UpdateKeepsRole", stored: scimAdmin, d: retitled, kind: scimbridge.ChangeUpdate, fields: []string{"title"},
			state: scimbridge.StateActive, role: scimbridge.RoleAdmin, email: "alice@example.com"},
		{name: "UpdateEmails", stored: scimAdmin, d: newEmail, kind: scimbridge.ChangeUpdate, fields: []string{"emails", "email"},
			state: scimbridge.StateActive, role: scimbridge.RoleAdmin, email: "a2@example.com"},
		{name: "Deactivate", stored: scimAdmin, d: off, kind: scimbridge.ChangeDeactivate, fields: []string{"active"},
			state: scimbridge.StateInactive, role: scimbridge.RoleAdmin, deactivated: &now, email: "alice@example.com"},
		{name: "DeactivateForcesInactive", stored: scimAdmin, d: retitled, kind: scimbridge.ChangeDeactivate, fields: []string{"title", "active"},
			state: scimbridge.StateInactive, role: scimbridge.RoleAdmin, deactivated: &now, email: "alice@example.com"},
		{name: "InactiveUpdateKeepsDeactivatedAt", stored: scimOwnerInactive, d: func() scimbridge.DesiredProfile { d := off; d.Title = "x"; return d }(),
			kind: scimbridge.ChangeUpdate, fields: []string{"title"},
			state: scimbridge.StateInactive, role: scimbridge.RoleOwner, deactivated: scimOwnerInactive.DeactivatedAt, email: "alice@example.com"},
		{name: "ReactivateOwnerBecomesMember", stored: scimOwnerInactive, d: off, kind: scimbridge.ChangeReactivate, fields: []string{"active", "role"},
			state: scimbridge.StateActive, role: scimbridge.RoleMember, email: "alice@example.com"},
		{name: "UpdateThatReactivatesGivesMember", stored: scimOwnerInactive, d: same, kind: scimbridge.ChangeUpdate, fields: []string{"active", "role"},
			state: scimbridge.StateActive, role: scimbridge.RoleMember, email: "alice@example.com"},
		{name: "Revive", stored: detachedAdmin, d: renamed, kind: scimbridge.ChangeRevive, fields: []string{"userName", "active", "detached", "role"},
			state: scimbridge.StateActive, role: scimbridge.RoleMember, email: "alice@example.com", reason: "revived"},
		{name: "ReviveInactive", stored: detachedAdmin, d: off, kind: scimbridge.ChangeRevive, fields: []string{"detached", "role"},
			state: scimbridge.StateInactive, role: scimbridge.RoleMember, deactivated: detachedAdmin.DeactivatedAt, email: "alice@example.com", reason: "revived"},
		{name: "DetachIgnoresDesired", stored: scimAdmin, d: renamed, kind: scimbridge.ChangeDetach, fields: []string{"active", "detached"},
			state: scimbridge.StateInactive, role: scimbridge.RoleAdmin, deactivated: &now, detached: true, email: "alice@example.com"},
		{name: "DetachInactiveKeepsDeactivatedAt", stored: scimOwnerInactive, kind: scimbridge.ChangeDetach, fields: []string{"detached"},
			state: scimbridge.StateInactive, role: scimbridge.RoleOwner, deactivated: scimOwnerInactive.DeactivatedAt, detached: true, email: "alice@example.com"},
		{name: "GoogleUpdate", stored: google, d: retitled, kind: scimbridge.ChangeUpdate, fields: []string{"title"},
			state: scimbridge.StateActive, role: scimbridge.RoleAdmin, email: "alice@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := tt.stored
			storedCopy := stored
			storedDeactivated := copyTime(stored.DeactivatedAt)
			c, err := Apply(stored, Normalize(tt.d), tt.kind, now)
			if err != nil {
				t.Fatal(err)
			}
			p := c.Profile
			if c.Kind != tt.kind || c.ExpectedVersion != stored.Version || p.Version != stored.Version+1 || !p.UpdatedAt.Equal(now) {
				t.Errorf("kind %q expected %d version %d updated %v", c.Kind, c.ExpectedVersion, p.Version, p.UpdatedAt)
			}
			if p.ID != stored.ID || p.OrgID != stored.OrgID || !p.CreatedAt.Equal(stored.CreatedAt) || p.Source != stored.Source {
				t.Errorf("identity changed: %+v", p)
			}
			if got := fieldNames(c.Fields); !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields %v, want %v (%+v)", got, tt.fields, c.Fields)
			}
			if p.State != tt.state || p.AccessRevoked != (tt.state == scimbridge.StateInactive) || p.Role != tt.role {
				t.Errorf("state %q revoked %v role %q, want %q %q", p.State, p.AccessRevoked, p.Role, tt.state, tt.role)
			}
			if (p.DeactivatedAt == nil) != (tt.deactivated == nil) || (p.DeactivatedAt != nil && !p.DeactivatedAt.Equal(*tt.deactivated)) {
				t.Errorf("DeactivatedAt %v, want %v", p.DeactivatedAt, tt.deactivated)
			}
			if p.Detached() != tt.detached || (tt.detached && !p.DetachedAt.Equal(now)) {
				t.Errorf("DetachedAt %v, want detached %v", p.DetachedAt, tt.detached)
			}
			if p.Email != tt.email || c.Reason != tt.reason {
				t.Errorf("email %q reason %q, want %q %q", p.Email, c.Reason, tt.email, tt.reason)
			}
			wantHash := ""
			if p.Source == scimbridge.SourceGoogle {
				wantHash = Hash(Normalize(tt.d))
			}
			if p.DesiredHash != wantHash {
				t.Errorf("DesiredHash %q, want %q", p.DesiredHash, wantHash)
			}
			if tt.kind != scimbridge.ChangeDetach && !reflect.DeepEqual(NormalizeProfile(p).p, Normalize(withActive(tt.d, p.Active())).p) {
				t.Errorf("attributes not replaced by desired:\n%+v\n%+v", NormalizeProfile(p), tt.d)
			}
			if tt.kind == scimbridge.ChangeDetach && !reflect.DeepEqual(p.Attributes, stored.Attributes) {
				t.Errorf("detach changed attributes")
			}
			if p.DeactivatedAt != nil {
				*p.DeactivatedAt = time.Time{}
			}
			if !reflect.DeepEqual(stored, storedCopy) || !reflect.DeepEqual(stored.DeactivatedAt, storedDeactivated) {
				t.Errorf("stored profile modified through the change")
			}
		})
	}
}

func withActive(d scimbridge.DesiredProfile, active bool) scimbridge.DesiredProfile {
	d.Active = active
	return d
}

func TestApply_Refused(t *testing.T) {
	d := desired("a@x.com", "")
	tests := []struct {
		name   string
		stored scimbridge.Profile
		kind   scimbridge.ChangeKind
		d      scimbridge.DesiredProfile
		code   string
	}{
		{"UpdateManual", prof("p", scimbridge.SourceManual, "a@x.com", "a@x.com"), scimbridge.ChangeUpdate, d, scimbridge.ECONFLICT},
		{"DeactivateSAML", prof("p", scimbridge.SourceSAML, "a@x.com", "a@x.com"), scimbridge.ChangeDeactivate, d, scimbridge.ECONFLICT},
		{"ReactivateManual", prof("p", scimbridge.SourceManual, "a@x.com", "a@x.com", inactive), scimbridge.ChangeReactivate, d, scimbridge.ECONFLICT},
		{"DetachManual", prof("p", scimbridge.SourceManual, "a@x.com", "a@x.com"), scimbridge.ChangeDetach, d, scimbridge.ECONFLICT},
		{"DetachGoogle", prof("p", scimbridge.SourceGoogle, "a@x.com", "a@x.com"), scimbridge.ChangeDetach, d, scimbridge.ECONFLICT},
		{"ReviveManual", prof("p", scimbridge.SourceManual, "a@x.com", "a@x.com", detachedAt(time.Hour)), scimbridge.ChangeRevive, d, scimbridge.ECONFLICT},
		{"ReviveNotDetached", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com"), scimbridge.ChangeRevive, d, scimbridge.ECONFLICT},
		{"UpdateDetached", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com", detachedAt(time.Hour)), scimbridge.ChangeUpdate, d, scimbridge.ENOTFOUND},
		{"DetachDetached", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com", detachedAt(time.Hour)), scimbridge.ChangeDetach, d, scimbridge.ENOTFOUND},
		{"KindCreate", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com"), scimbridge.ChangeCreate, d, scimbridge.EINTERNAL},
		{"KindAdopt", prof("p", scimbridge.SourceManual, "a@x.com", "a@x.com"), scimbridge.ChangeAdopt, d, scimbridge.EINTERNAL},
		{"KindRelease", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com"), scimbridge.ChangeRelease, d, scimbridge.EINTERNAL},
		{"NoEmail", prof("p", scimbridge.SourceSCIM, "a@x.com", "a@x.com"), scimbridge.ChangeUpdate, desired("alice", ""), scimbridge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Apply(tt.stored, Normalize(tt.d), tt.kind, now)
			if scimbridge.ErrorCode(err) != tt.code {
				t.Errorf("Apply error = %v, want code %q", err, tt.code)
			}
		})
	}
}

func TestAdopt(t *testing.T) {
	owner := prof("m1", scimbridge.SourceManual, "alice", "alice@x.com", role(scimbridge.RoleOwner))
	t.Run("KeepsRoleWhenActive", func(t *testing.T) {
		d := fullDesired()
		c, err := Adopt(owner, scimbridge.SourceSCIM, Normalize(d), now)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Profile
		if c.Kind != scimbridge.ChangeAdopt || c.Reason != "adopted" || p.Source != scimbridge.SourceSCIM || p.Role != scimbridge.RoleOwner {
			t.Errorf("kind %q reason %q source %q role %q", c.Kind, c.Reason, p.Source, p.Role)
		}
		if !reflect.DeepEqual(p.Attributes, d.Attributes) || p.ExternalID != d.ExternalID || p.Email != "alice@example.com" {
			t.Errorf("attributes not replaced: %+v", p)
		}
		if p.Version != owner.Version+1 || c.ExpectedVersion != owner.Version || p.DesiredHash != "" {
			t.Errorf("version %d expected %d hash %q", p.Version, c.ExpectedVersion, p.DesiredHash)
		}
		names := fieldNames(c.Fields)
		if len(names) < 2 || names[len(names)-1] != "source" || names[0] != "userName" {
			t.Errorf("fields %v, want userName ... source", names)
		}
	})
	t.Run("InactiveAdoptedActiveBecomesMember", func(t *testing.T) {
		stored := prof("s1", scimbridge.SourceSAML, "alice", "alice@x.com", role(scimbridge.RoleAdmin), inactive)
		c, err := Adopt(stored, scimbridge.SourceGoogle, Normalize(fullDesired()), now)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Profile
		if p.Role != scimbridge.RoleMember || !p.Active() || p.AccessRevoked || p.DeactivatedAt != nil || p.Source != scimbridge.SourceGoogle {
			t.Errorf("role %q state %q revoked %v source %q", p.Role, p.State, p.AccessRevoked, p.Source)
		}
		if p.DesiredHash != Hash(Normalize(fullDesired())) {
			t.Errorf("DesiredHash %q", p.DesiredHash)
		}
	})
	for _, tt := range []struct {
		name   string
		stored scimbridge.Profile
		src    scimbridge.Source
		code   string
	}{
		{"SCIMProfile", prof("p", scimbridge.SourceSCIM, "a", "a@x.com"), scimbridge.SourceGoogle, scimbridge.ECONFLICT},
		{"GoogleProfile", prof("p", scimbridge.SourceGoogle, "a", "a@x.com"), scimbridge.SourceSCIM, scimbridge.ECONFLICT},
		{"DetachedManual", prof("p", scimbridge.SourceManual, "a", "a@x.com", detachedAt(time.Hour)), scimbridge.SourceSCIM, scimbridge.ECONFLICT},
		{"ByManual", owner, scimbridge.SourceManual, scimbridge.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Adopt(tt.stored, tt.src, Normalize(fullDesired()), now); scimbridge.ErrorCode(err) != tt.code {
				t.Errorf("Adopt error = %v, want %q", err, tt.code)
			}
		})
	}
}

func TestReleaseKeys(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stored scimbridge.Profile
		code   string
	}{
		{"DetachedSCIM", prof("d", scimbridge.SourceSCIM, "Alice", "alice@x.com", detachedAt(time.Hour)), ""},
		{"DetachedManual", prof("d", scimbridge.SourceManual, "Alice", "alice@x.com", detachedAt(time.Hour)), ""},
		{"GoogleAddressReused", prof("g", scimbridge.SourceGoogle, "Alice", "alice@x.com", inactive), ""},
		{"Manual", prof("m", scimbridge.SourceManual, "Alice", "alice@x.com"), scimbridge.ECONFLICT},
		{"SAML", prof("s", scimbridge.SourceSAML, "Alice", "alice@x.com"), scimbridge.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ReleaseKeys(tt.stored, now)
			if scimbridge.ErrorCode(err) != tt.code {
				t.Fatalf("ReleaseKeys error = %v, want %q", err, tt.code)
			}
			if err != nil {
				return
			}
			p := c.Profile
			if p.FormerUserName != "Alice" || p.FormerEmail != "alice@x.com" || p.UserName != "" || p.Email != "" || p.Emails != nil {
				t.Errorf("former %q/%q now %q/%q/%v", p.FormerUserName, p.FormerEmail, p.UserName, p.Email, p.Emails)
			}
			if c.Kind != scimbridge.ChangeRelease || p.State != tt.stored.State || p.Source != tt.stored.Source ||
				p.Detached() != tt.stored.Detached() || p.Version != tt.stored.Version+1 || c.ExpectedVersion != tt.stored.Version {
				t.Errorf("change %+v", c)
			}
			if got, want := fieldNames(c.Fields), []string{"userName", "emails", "email"}; !reflect.DeepEqual(got, want) {
				t.Errorf("fields %v, want %v", got, want)
			}
			if tt.stored.UserName != "Alice" || len(tt.stored.Emails) != 1 {
				t.Errorf("stored profile modified")
			}
		})
	}
	t.Run("AlreadyReleasedKeepsFormer", func(t *testing.T) {
		p := prof("d", scimbridge.SourceSCIM, "", "", detachedAt(time.Hour))
		p.FormerUserName, p.FormerEmail = "old", "old@x.com"
		c, err := ReleaseKeys(p, now)
		if err != nil || c.Profile.FormerUserName != "old" || c.Profile.FormerEmail != "old@x.com" || len(c.Fields) != 0 {
			t.Errorf("ReleaseKeys = %+v, %v", c, err)
		}
	})
}
