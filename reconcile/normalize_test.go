package reconcile

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func boolPtr(b bool) *bool { return &b }

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		emails []scimbridge.Email
		want   []scimbridge.Email
	}{
		{"NilStaysNil", nil, nil},
		{"EmptyBecomesNil", []scimbridge.Email{}, nil},
		{"EmptyValuesDropped", []scimbridge.Email{{Type: "work"}, {Value: "a@x.com"}, {Value: "", Primary: boolPtr(true)}},
			[]scimbridge.Email{{Value: "a@x.com"}}},
		{"OnlyEmptyValuesBecomeNil", []scimbridge.Email{{Type: "work"}}, nil},
		{"KeptAsSent", []scimbridge.Email{{Value: " B@X.com ", Type: "Work", Display: "b", Primary: boolPtr(false)}, {Value: "a@x.com"}},
			[]scimbridge.Email{{Value: " B@X.com ", Type: "Work", Display: "b", Primary: boolPtr(false)}, {Value: "a@x.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: " Alice ", Emails: tt.emails}})
			if !reflect.DeepEqual(got.p.Emails, tt.want) {
				t.Errorf("emails = %#v, want %#v", got.p.Emails, tt.want)
			}
			if got.p.UserName != " Alice " {
				t.Errorf("userName = %q, want it untouched", got.p.UserName)
			}
		})
	}
	t.Run("NoSharedMemory", func(t *testing.T) {
		in := scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{Emails: []scimbridge.Email{{Value: "a@x.com", Primary: boolPtr(true)}}}}
		out := Normalize(in)
		out.p.Emails[0].Value = "changed"
		*out.p.Emails[0].Primary = false
		if in.Emails[0].Value != "a@x.com" || !*in.Emails[0].Primary {
			t.Errorf("input changed through the result: %#v", in.Emails[0])
		}
	})
}

func TestNormalizeProfile(t *testing.T) {
	p := scimbridge.Profile{
		Attributes: scimbridge.Attributes{UserName: "alice", Title: "Eng", Emails: []scimbridge.Email{}},
		State:      scimbridge.StateInactive, ExternalID: "ext", GoogleID: "123",
	}
	want := scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "alice", Title: "Eng"}, ExternalID: "ext", GoogleID: "123"}
	if got := NormalizeProfile(p).Profile(); !reflect.DeepEqual(got, want) {
		t.Errorf("NormalizeProfile = %#v, want %#v", got, want)
	}
	p.State = scimbridge.StateActive
	if !NormalizeProfile(p).Active() {
		t.Error("active profile normalised as inactive")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		d       scimbridge.DesiredProfile
		wantErr bool
	}{
		{"OK", scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "alice"}}, false},
		{"NoUserName", scimbridge.DesiredProfile{}, true},
		{"NULInTitle", scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a", Title: "x\x00"}}, true},
		{"NULInExternalID", scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a"}, ExternalID: "\x00"}, true},
		{"NULInEmail", scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a", Emails: []scimbridge.Email{{Value: "a\x00@x"}}}}, true},
		{"NULInEmailType", scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a", Emails: []scimbridge.Email{{Value: "a@x", Type: "\x00"}}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.d)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && (scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidValue") {
				t.Errorf("error = %v (%s/%s), want invalid/invalidValue", err, scimbridge.ErrorCode(err), scimbridge.ErrorScimType(err))
			}
		})
	}
}

func TestProfileEmail(t *testing.T) {
	tests := []struct {
		name     string
		userName string
		emails   []scimbridge.Email
		want     string // "" means an invalidValue error
	}{
		{"Primary", "alice", []scimbridge.Email{{Value: "w@x.com", Type: "work"}, {Value: "p@x.com", Primary: boolPtr(true)}}, "p@x.com"},
		{"FirstWork", "alice", []scimbridge.Email{{Value: "h@x.com", Type: "home"}, {Value: "w@x.com", Type: "Work"}}, "w@x.com"},
		{"First", "alice", []scimbridge.Email{{Value: "h@x.com", Type: "home"}, {Value: "o@x.com"}}, "h@x.com"},
		{"PrimaryFalseIsNotPrimary", "alice", []scimbridge.Email{{Value: "a@x.com", Primary: boolPtr(false)}, {Value: "w@x.com", Type: "work"}}, "w@x.com"},
		{"UserNameAddress", "Alice@Example.com", nil, "Alice@Example.com"},
		{"UserNameUnicodeAddress", "jürgen@example.com", nil, "jürgen@example.com"},
		{"EmptyEmailValueFallsBack", "alice@example.com", []scimbridge.Email{{Type: "work"}}, "alice@example.com"},
		{"UserNameNotAddress", "alice", nil, ""},
		{"UserNameWithDisplayName", "Alice <alice@example.com>", nil, ""},
		{"UserNameWithSpaces", " alice@example.com", nil, ""},
		{"UserNameTwoAddresses", "a@x.com, b@x.com", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProfileEmail(scimbridge.Attributes{UserName: tt.userName, Emails: tt.emails})
			if tt.want == "" {
				if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidValue" {
					t.Fatalf("ProfileEmail = %q, %v; want invalidValue", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ProfileEmail = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDesired(t *testing.T) {
	t.Run("CheckedWhenNormalised", func(t *testing.T) {
		d := Normalize(scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "alice",
			Emails: []scimbridge.Email{{}, {Value: "a@x.com", Type: "work"}}}})
		if !d.checked {
			t.Fatal("Normalize did not check the profile")
		}
		if email, err := d.Check(); email != "a@x.com" || err != nil {
			t.Errorf("Check = %q, %v", email, err)
		}
		if email, err := d.WithActive(true).Check(); email != "a@x.com" || err != nil || !d.WithActive(true).Active() {
			t.Errorf("WithActive lost the check: %q, %v", email, err)
		}
		bad := Normalize(scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "alice"}})
		if _, err := bad.Check(); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("a profile without an email checks as %v", err)
		}
		if _, err := (Desired{}).Check(); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("the zero Desired checks as %v", err)
		}
	})
	t.Run("JSONEntersNormalised", func(t *testing.T) {
		var d Desired
		if err := json.Unmarshal([]byte(`{"userName":"a@x.com","emails":[{"value":""},{"value":"a@x.com"}],"active":true}`), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.p.Emails) != 1 || !d.checked || !d.Active() {
			t.Fatalf("decoded %+v", d)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(d.p)
		if string(b) != string(want) {
			t.Errorf("encoded %s, want the desired profile %s", b, want)
		}
	})
}
