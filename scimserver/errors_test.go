package scimserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		scimType string
		detail   string
	}{
		{"Invalid", scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidFilter", "bad filter"), 400, "invalidFilter", "bad filter"},
		{"InvalidDefaultType", scimbridge.Errorf(scimbridge.EINVALID, "bad"), 400, "invalidValue", "bad"},
		{"Unauthorized", scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "no"), 401, "", "no"},
		{"NotFound", fmt.Errorf("load: %w", scimbridge.Errorf(scimbridge.ENOTFOUND, "user not found")), 404, "", "user not found"},
		{"Conflict", scimbridge.Errorf(scimbridge.ECONFLICT, "userName is taken"), 409, "uniqueness", "userName is taken"},
		{"Concurrent", scimbridge.Errorf(eConcurrent, "retry"), 409, "", "retry"},
		{"Precondition", scimbridge.Errorf(scimbridge.EPRECONDITION, "stale"), 412, "", "stale"},
		{"TooLarge", scimbridge.Errorf(eTooLarge, "big"), 413, "", "big"},
		{"RateLimited", scimbridge.Errorf(eRateLimited, "slow down"), 429, "", "slow down"},
		{"InternalHidesText", &scimbridge.Error{Code: scimbridge.EINTERNAL, Message: "pq: relation profiles", ScimType: "invalidValue"}, 500, "", "internal error"},
		{"PlainErrorHidden", errors.New("dial tcp 127.0.0.1:5432: connection refused"), 500, "", "internal error"},
		{"UnknownCodeHidden", scimbridge.Errorf("weird", "secret detail"), 500, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, scimType, detail := statusOf(tt.err)
			if status != tt.status || scimType != tt.scimType || detail != tt.detail {
				t.Errorf("statusOf = %d %q %q; want %d %q %q", status, scimType, detail, tt.status, tt.scimType, tt.detail)
			}
		})
	}
	t.Run("EveryCodeHasAStatus", func(t *testing.T) {
		for _, code := range []string{scimbridge.ENOTFOUND, scimbridge.ECONFLICT, scimbridge.EINVALID,
			scimbridge.EPRECONDITION, scimbridge.EUNAUTHORIZED, scimbridge.ELEASELOST, scimbridge.EINTERNAL} {
			if _, ok := errorTable[code]; !ok {
				t.Errorf("code %s missing from the error table", code)
			}
		}
	})
}

func TestErrorBody(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(errorBody(http.StatusConflict, "uniqueness", "taken"), &got); err != nil {
		t.Fatal(err)
	}
	want := `map[detail:taken schemas:[urn:ietf:params:scim:api:messages:2.0:Error] scimType:uniqueness status:409]`
	if fmt.Sprint(got) != want {
		t.Fatalf("error body = %v, want %s", got, want)
	}
	if strings.Contains(string(errorBody(404, "", "x")), "scimType") {
		t.Fatal("empty scimType rendered")
	}
}
