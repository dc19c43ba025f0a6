package scimbridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestCheckGroupLimits(t *testing.T) {
	long, atLimit := strings.Repeat("g", scimbridge.MaxKeyBytes+1), strings.Repeat("g", scimbridge.MaxKeyBytes)
	tests := []struct {
		name string
		g    scimbridge.Group
		want string // "" accepts; else a part of the message
	}{
		{"AtLimit", scimbridge.Group{DisplayName: atLimit, ExternalID: atLimit, GoogleID: atLimit}, ""},
		{"DisplayName", scimbridge.Group{DisplayName: long}, "displayName is 1025 bytes long; the limit is 1024 bytes"},
		{"ExternalID", scimbridge.Group{DisplayName: "g", ExternalID: long}, "externalId is 1025 bytes"},
		{"GoogleID", scimbridge.Group{DisplayName: "g", GoogleID: long}, "googleId is 1025 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := scimbridge.CheckGroupLimits(tt.g)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidValue" ||
				!strings.Contains(scimbridge.ErrorMessage(err), tt.want) {
				t.Fatalf("err = %v, want invalidValue with %q", err, tt.want)
			}
		})
	}
}
