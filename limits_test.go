package scimbridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestCheckLimits(t *testing.T) {
	ok := func() scimbridge.DesiredProfile {
		return scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{
			UserName: "u@example.com", Emails: []scimbridge.Email{{Value: "u@example.com"}}}}
	}
	emails := func(n int) []scimbridge.Email {
		out := make([]scimbridge.Email, n)
		for i := range out {
			out[i].Value = strings.Repeat("e", i+1) + "@example.com"
		}
		return out
	}
	tests := []struct {
		name   string
		change func(d *scimbridge.DesiredProfile)
		want   string // "" accepts; else a part of the message
	}{
		{"Valid", func(d *scimbridge.DesiredProfile) {}, ""},
		{"UserNameAtLimit", func(d *scimbridge.DesiredProfile) { d.UserName = strings.Repeat("u", 1024) }, ""},
		{"UserNameOver", func(d *scimbridge.DesiredProfile) { d.UserName = strings.Repeat("u", 1025) },
			"userName is 1025 bytes long; the limit is 1024 bytes"},
		{"UserNameCountsBytes", func(d *scimbridge.DesiredProfile) { d.UserName = strings.Repeat("é", 513) }, "userName is 1026 bytes"},
		{"ExternalIDOver", func(d *scimbridge.DesiredProfile) { d.ExternalID = strings.Repeat("L", 40000) }, "externalId is 40000 bytes"},
		{"GoogleIDOver", func(d *scimbridge.DesiredProfile) { d.GoogleID = strings.Repeat("1", 1025) }, "googleId"},
		{"DisplayNameAtLimit", func(d *scimbridge.DesiredProfile) { d.DisplayName = strings.Repeat("d", 4096) }, ""},
		{"DisplayNameOver", func(d *scimbridge.DesiredProfile) { d.DisplayName = strings.Repeat("d", 4097) },
			"displayName is 4097 bytes long; the limit is 4096 bytes"},
		{"GivenNameOver", func(d *scimbridge.DesiredProfile) { d.GivenName = strings.Repeat("g", 4097) }, "name.givenName"},
		{"ManagerOver", func(d *scimbridge.DesiredProfile) { d.Manager = strings.Repeat("m", 4097) }, "manager.value"},
		{"DivisionOver", func(d *scimbridge.DesiredProfile) { d.Division = strings.Repeat("v", 4097) }, "division"},
		{"SecondEmailOver", func(d *scimbridge.DesiredProfile) {
			d.Emails = append(d.Emails, scimbridge.Email{Value: strings.Repeat("x", 4000)})
		}, "emails[1].value is 4000 bytes long; the limit is 1024 bytes"},
		{"EmailTypeOver", func(d *scimbridge.DesiredProfile) { d.Emails[0].Type = strings.Repeat("t", 4097) }, "emails[0].type"},
		{"EmailDisplayOver", func(d *scimbridge.DesiredProfile) { d.Emails[0].Display = strings.Repeat("t", 4097) }, "emails[0].display"},
		{"TwentyEmails", func(d *scimbridge.DesiredProfile) { d.Emails = emails(20) }, ""},
		{"TwentyOneEmails", func(d *scimbridge.DesiredProfile) { d.Emails = emails(21) }, "emails has 21 entries; the limit is 20"},
		{"TwentyPhoneNumbers", func(d *scimbridge.DesiredProfile) { d.PhoneNumbers = make([]scimbridge.PhoneNumber, 20) }, ""},
		{"TwentyOnePhoneNumbers", func(d *scimbridge.DesiredProfile) { d.PhoneNumbers = make([]scimbridge.PhoneNumber, 21) },
			"phoneNumbers has 21 entries; the limit is 20"},
		{"TwentyOneAddresses", func(d *scimbridge.DesiredProfile) { d.Addresses = make([]scimbridge.Address, 21) },
			"addresses has 21 entries; the limit is 20"},
		{"PhoneValueOver", func(d *scimbridge.DesiredProfile) {
			d.PhoneNumbers = []scimbridge.PhoneNumber{{Value: "1"}, {Value: strings.Repeat("1", 4097)}}
		}, "phoneNumbers[1].value is 4097 bytes long; the limit is 4096 bytes"},
		{"AddressLocalityOver", func(d *scimbridge.DesiredProfile) {
			d.Addresses = []scimbridge.Address{{Locality: strings.Repeat("l", 4097)}}
		}, "addresses[0].locality"},
		{"AddressCountryAtLimit", func(d *scimbridge.DesiredProfile) {
			d.Addresses = []scimbridge.Address{{Country: strings.Repeat("c", 4096)}}
		}, ""},
		{"EmptyEmailsNotCounted", func(d *scimbridge.DesiredProfile) { d.Emails = append(emails(20), scimbridge.Email{Type: "x"}) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok()
			tt.change(&d)
			err := scimbridge.CheckLimits(d)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckLimits: %v", err)
				}
				return
			}
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidValue" ||
				!strings.Contains(scimbridge.ErrorMessage(err), tt.want) {
				t.Fatalf("CheckLimits = %v, want EINVALID invalidValue containing %q", err, tt.want)
			}
		})
	}
}

func TestValueBytes_CountsPhonesAndAddresses(t *testing.T) {
	d := scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "u",
		Emails:       []scimbridge.Email{{Value: "e@x", Type: "work"}},
		PhoneNumbers: []scimbridge.PhoneNumber{{Value: "12345", Type: "work", Display: "d"}},
		Addresses:    []scimbridge.Address{{Formatted: "f", StreetAddress: "s", Locality: "l", Region: "r", PostalCode: "p", Country: "c", Type: "home"}},
	}}
	// u + e@x work + 12345 work d + f s l r p c home
	if got, want := scimbridge.ValueBytes(d), 1+3+4+5+4+1+6+4; got != want {
		t.Errorf("ValueBytes = %d, want %d", got, want)
	}
}
