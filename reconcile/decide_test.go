package reconcile

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type profileOpt func(*scimbridge.Profile)

func ext(id string) profileOpt          { return func(p *scimbridge.Profile) { p.ExternalID = id } }
func gid(id string) profileOpt          { return func(p *scimbridge.Profile) { p.GoogleID = id } }
func role(r scimbridge.Role) profileOpt { return func(p *scimbridge.Profile) { p.Role = r } }
func inactive(p *scimbridge.Profile) {
	p.State, p.AccessRevoked = scimbridge.StateInactive, true
	at := t0.Add(-48 * time.Hour)
	p.DeactivatedAt = &at
}
func detachedAt(d time.Duration) profileOpt {
	return func(p *scimbridge.Profile) {
		inactive(p)
		at := t0.Add(-d)
		p.DetachedAt = &at
	}
}

// prof is a stored profile; email is both the emails entry and the profile
// email.
func prof(id string, src scimbridge.Source, userName, email string, opts ...profileOpt) scimbridge.Profile {
	p := scimbridge.Profile{
		ID: id, OrgID: "org", Source: src, State: scimbridge.StateActive, Role: scimbridge.RoleMember, Version: 5,
		Attributes: scimbridge.Attributes{UserName: userName}, Email: email,
		CreatedAt: t0.Add(-72 * time.Hour), UpdatedAt: t0.Add(-72 * time.Hour),
	}
	if email != "" {
		p.Emails = []scimbridge.Email{{Value: email, Type: "work"}}
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func desired(userName, externalID string) scimbridge.DesiredProfile {
	return scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: userName}, Active: true, ExternalID: externalID}
}

func TestDecide(t *testing.T) {
	const (
		scim   = scimbridge.SourceSCIM
		google = scimbridge.SourceGoogle
		manual = scimbridge.SourceManual
		saml   = scimbridge.SourceSAML
	)
	alice := desired("alice@x.com", "ext-a")
	aliceNoExt := desired("alice@x.com", "")
	withEmail := func(d scimbridge.DesiredProfile, email string) scimbridge.DesiredProfile {
		d.Emails = []scimbridge.Email{{Value: email, Primary: boolPtr(true)}}
		return d
	}

	tests := []struct {
		name       string
		src        scimbridge.Source
		adopt      bool
		desired    scimbridge.DesiredProfile
		candidates []scimbridge.Profile
		action     Action
		target     string   // id
		release    []string // ids
		reason     string
		errCode    string // "" for none
	}{
		{name: "NoCandidates", src: scim, adopt: true, desired: alice, action: ActionCreate},

		// Same source: uniqueness conflicts.
		{name: "SameSourceUserNameAnyCase", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("p1", scim, "ALICE@X.com", "other@x.com")},
			action:     ActionConflict, reason: "userName is already taken", errCode: scimbridge.ECONFLICT},
		{name: "SameSourceEmail", src: scim, adopt: true, desired: withEmail(desired("alice", ""), "Alice@X.com"),
			candidates: []scimbridge.Profile{prof("p1", scim, "someone", "alice@x.com")},
			action:     ActionConflict, reason: "email is already taken", errCode: scimbridge.ECONFLICT},
		{name: "SameSourceExternalID", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("p1", scim, "bob@x.com", "bob@x.com", ext("ext-a"))},
			action:     ActionConflict, reason: "externalId is already taken", errCode: scimbridge.ECONFLICT},
		{name: "ExternalIDIsCaseExact", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("p1", scim, "bob@x.com", "bob@x.com", ext("EXT-A"))},
			action:     ActionCreate},
		{name: "ExternalIDOfAnotherSourceIsNoMatch", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("p1", google, "bob@x.com", "bob@x.com", ext("ext-a"))},
			action:     ActionCreate},

		// Another syncing source.
		{name: "OtherSourceConflictNamesIt", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("p1", google, "alice@x.com", "alice@x.com")},
			action:     ActionConflict, reason: "userName is already taken by a profile managed by google", errCode: scimbridge.ECONFLICT},
		{name: "OtherSourceByEmail", src: scim, adopt: true, desired: withEmail(alice, "a@x.com"),
			candidates: []scimbridge.Profile{prof("p1", google, "someone", "A@x.com")},
			action:     ActionConflict, reason: "email is already taken by a profile managed by google", errCode: scimbridge.ECONFLICT},
		{name: "OtherSourceWinsOverAdoption", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("a", manual, "alice@x.com", "m@x.com"), prof("b", google, "g@x.com", "alice@x.com")},
			action:     ActionConflict, reason: "email is already taken by a profile managed by google", errCode: scimbridge.ECONFLICT},
		{name: "ConflictWinsOverRevival", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("a", scim, "old@x.com", "old@x.com", ext("ext-a"), detachedAt(time.Hour)), prof("b", scim, "Alice@x.com", "b@x.com")},
			action:     ActionConflict, reason: "userName is already taken", errCode: scimbridge.ECONFLICT},

		// Manual and SAML profiles: adoption.
		{name: "AdoptManualByEmail", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("m1", manual, "alice", "alice@X.com")},
			action:     ActionAdopt, target: "m1", reason: "adopted"},
		{name: "AdoptSAMLByUserName", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("s1", saml, "Alice@x.com", "other@x.com")},
			action:     ActionAdopt, target: "s1", reason: "adopted"},
		{name: "AdoptSameProfileListedTwice", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("m1", manual, "alice@x.com", "alice@x.com"), prof("m1", manual, "alice@x.com", "alice@x.com")},
			action:     ActionAdopt, target: "m1", reason: "adopted"},
		{name: "AdoptionOffConflict", src: scim, adopt: false, desired: alice,
			candidates: []scimbridge.Profile{prof("m1", manual, "alice@x.com", "alice@x.com")},
			action:     ActionConflict, reason: "userName is already taken by a manual profile and adopt_existing is off", errCode: scimbridge.ECONFLICT},
		{name: "AdoptionOffSAMLByEmail", src: scim, adopt: false, desired: alice,
			candidates: []scimbridge.Profile{prof("s1", saml, "x", "alice@x.com")},
			action:     ActionConflict, reason: "email is already taken by a saml profile and adopt_existing is off", errCode: scimbridge.ECONFLICT},
		{name: "TwoLocalProfilesConflict", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("m1", manual, "alice@x.com", "m1@x.com"), prof("m2", saml, "m2", "alice@x.com")},
			action:     ActionConflict, reason: "userName and email belong to two different existing profiles", errCode: scimbridge.ECONFLICT},
		{name: "AdoptReleasesDetachedHolder", src: scim, adopt: true, desired: withEmail(desired("alice", "ext-a"), "alice@x.com"),
			candidates: []scimbridge.Profile{prof("m1", manual, "alice", "m@x.com"), prof("d1", scim, "d", "alice@x.com", ext("other"), detachedAt(time.Hour))},
			action:     ActionAdopt, target: "m1", release: []string{"d1"}, reason: "adopted"},
		{name: "UnmatchedManualIgnored", src: scim, adopt: false, desired: alice,
			candidates: []scimbridge.Profile{prof("m1", manual, "bob@x.com", "bob@x.com", ext("ext-a"))},
			action:     ActionCreate},

		// Detached SCIM profiles: revival or release.
		{name: "ReviveByExternalID", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("d1", scim, "old@x.com", "old@x.com", ext("ext-a"), detachedAt(time.Hour))},
			action:     ActionRevive, target: "d1", reason: "revived"},
		{name: "ReviveByUserNameDesiredWithoutExternalID", src: scim, adopt: true, desired: aliceNoExt,
			candidates: []scimbridge.Profile{prof("d1", scim, "Alice@X.com", "alice@x.com", ext("ext-old"), detachedAt(time.Hour))},
			action:     ActionRevive, target: "d1", reason: "revived"},
		{name: "ReviveByUserNameStoredWithoutExternalID", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("d1", scim, "alice@x.com", "alice@x.com", detachedAt(time.Hour))},
			action:     ActionRevive, target: "d1", reason: "revived"},
		{name: "DifferentExternalIDsReleaseAndCreate", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("d1", scim, "alice@x.com", "alice@x.com", ext("ext-old"), detachedAt(time.Hour))},
			action:     ActionCreate, release: []string{"d1"}},
		{name: "EmailOnlyMatchIsNoRevival", src: scim, adopt: true, desired: aliceNoExt,
			candidates: []scimbridge.Profile{prof("d1", scim, "old", "alice@x.com", detachedAt(time.Hour))},
			action:     ActionCreate, release: []string{"d1"}},
		{name: "ReviveAndReleaseAnotherHolder", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{
				prof("d1", scim, "old@x.com", "old@x.com", ext("ext-a"), detachedAt(time.Hour)),
				prof("d2", scim, "alice@x.com", "alice@x.com", ext("ext-b"), detachedAt(2*time.Hour)),
			},
			action: ActionRevive, target: "d1", release: []string{"d2"}, reason: "revived"},
		{name: "ExternalIDRevivalBeatsUserName", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{
				prof("d1", scim, "alice@x.com", "alice@x.com", detachedAt(time.Minute)),
				prof("d2", scim, "old@x.com", "old@x.com", ext("ext-a"), detachedAt(time.Hour)),
			},
			action: ActionRevive, target: "d2", release: []string{"d1"}, reason: "revived"},
		{name: "MostRecentlyDetachedRevived", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{
				prof("d1", scim, "one@x.com", "one@x.com", ext("ext-a"), detachedAt(2*time.Hour)),
				prof("d2", scim, "two@x.com", "two@x.com", ext("ext-a"), detachedAt(time.Hour)),
			},
			action: ActionRevive, target: "d2", reason: "revived"},
		{name: "DetachedManualIsReleasedNotRevived", src: scim, adopt: false, desired: aliceNoExt,
			candidates: []scimbridge.Profile{prof("d1", manual, "alice@x.com", "alice@x.com", detachedAt(time.Hour))},
			action:     ActionCreate, release: []string{"d1"}},
		{name: "DetachedNotHoldingKeysUntouched", src: scim, adopt: true, desired: alice,
			candidates: []scimbridge.Profile{prof("d1", scim, "old@x.com", "old@x.com", ext("ext-z"), detachedAt(time.Hour))},
			action:     ActionCreate},
		{name: "AlreadyReleasedDetachedIsNoMatch", src: scim, adopt: true, desired: aliceNoExt,
			candidates: []scimbridge.Profile{prof("d1", scim, "", "", ext("ext-z"), detachedAt(time.Hour))},
			action:     ActionCreate},

		// Bad input.
		{name: "NoEmail", src: scim, adopt: true, desired: desired("alice", ""), errCode: scimbridge.EINVALID},
		{name: "NoUserName", src: scim, adopt: true, desired: withEmail(desired("", ""), "a@x.com"), errCode: scimbridge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, reversed := range []bool{false, true} {
				cands := slices.Clone(tt.candidates)
				if reversed {
					slices.Reverse(cands)
				}
				got, err := Decide(DecideInput{
					Org:        scimbridge.Organization{ID: "org", AdoptExisting: tt.adopt},
					Desired:    Normalize(tt.desired),
					Candidates: cands,
				})
				if scimbridge.ErrorCode(err) != tt.errCode {
					t.Fatalf("reversed=%v: error = %v, want code %q", reversed, err, tt.errCode)
				}
				switch tt.errCode {
				case scimbridge.ECONFLICT:
					if scimbridge.ErrorScimType(err) != "uniqueness" || scimbridge.ErrorMessage(err) != tt.reason {
						t.Errorf("error = %q (scimType %q), want %q (uniqueness)", scimbridge.ErrorMessage(err), scimbridge.ErrorScimType(err), tt.reason)
					}
				case scimbridge.EINVALID:
					continue
				}
				if got.Action != tt.action || got.Reason != tt.reason {
					t.Errorf("reversed=%v: action %q reason %q, want %q %q", reversed, got.Action, got.Reason, tt.action, tt.reason)
				}
				var target string
				if got.Target != nil {
					target = got.Target.ID
				}
				if target != tt.target {
					t.Errorf("reversed=%v: target %q, want %q", reversed, target, tt.target)
				}
				var release []string
				for _, p := range got.Release {
					release = append(release, p.ID)
				}
				if !reflect.DeepEqual(release, tt.release) {
					t.Errorf("reversed=%v: release %v, want %v", reversed, release, tt.release)
				}
			}
		})
	}
}

func TestDecide_DoesNotModifyCandidates(t *testing.T) {
	cands := []scimbridge.Profile{
		prof("b", scimbridge.SourceSCIM, "alice@x.com", "alice@x.com", detachedAt(time.Hour)),
		prof("a", scimbridge.SourceManual, "x", "x@x.com"),
	}
	before := slices.Clone(cands)
	got, err := Decide(DecideInput{Org: scimbridge.Organization{AdoptExisting: true},
		Desired: Normalize(desired("alice@x.com", "")), Candidates: cands})
	if err != nil || got.Action != ActionRevive {
		t.Fatalf("Decide = %+v, %v", got, err)
	}
	if !reflect.DeepEqual(cands, before) {
		t.Errorf("candidates reordered or modified")
	}
}

func TestClaimOf(t *testing.T) {
	const (
		scim   = scimbridge.SourceSCIM
		google = scimbridge.SourceGoogle
		manual = scimbridge.SourceManual
		saml   = scimbridge.SourceSAML
	)
	for _, tt := range []struct {
		src, holder scimbridge.Source
		detached    bool
		adopt, off  Claim // with adopt_existing on, off
	}{
		{scim, scim, false, ClaimManaged, ClaimManaged},
		{google, google, false, ClaimManaged, ClaimManaged},
		{scim, google, false, ClaimForeign, ClaimForeign},
		{google, scim, false, ClaimForeign, ClaimForeign},
		{scim, manual, false, ClaimAdopt, ClaimAdoptOff},
		{google, saml, false, ClaimAdopt, ClaimAdoptOff},
		{scim, scim, true, ClaimDetached, ClaimDetached},
		{google, manual, true, ClaimDetached, ClaimDetached},
		{manual, manual, false, ClaimAdopt, ClaimAdoptOff}, // manual does not sync: it manages nothing
	} {
		p := prof("p", tt.holder, "a", "a@x.com")
		if tt.detached {
			p = prof("p", tt.holder, "a", "a@x.com", detachedAt(time.Hour))
		}
		for _, on := range []bool{true, false} {
			want := tt.adopt
			if !on {
				want = tt.off
			}
			if got := ClaimOf(scimbridge.Organization{AdoptExisting: on}, tt.src, p); got != want {
				t.Errorf("ClaimOf(%s over %s, detached %v, adopt %v) = %d, want %d", tt.src, tt.holder, tt.detached, on, got, want)
			}
		}
	}
}
