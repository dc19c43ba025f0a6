package scim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

const (
	idA = "11111111-1111-4111-8111-111111111111"
	idB = "22222222-2222-4222-8222-222222222222"
	idC = "33333333-3333-4333-8333-333333333333"
)

func TestDecodeGroup(t *testing.T) {
	g, err := DecodeGroup([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId":"e1","DisplayName":"Sales","meta":{"resourceType":"Group"},"id":"x",
		"members":[{"value":"` + strings.ToUpper(idA) + `","display":"a","$ref":null},{"value":"` + idB + `","type":"User"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := GroupRequest{DisplayName: "Sales", ExternalID: "e1", Members: []string{idA, idB}}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("got %+v, want %+v", g, want)
	}
	for _, bad := range []string{`[]`, `{}`, `{"displayName":""}`, `{"displayName":1}`, `{"displayName":"x","members":[{}]}`,
		`{"displayName":"x","members":"a"}`, `{"displayName":"x","owner":"y"}`, `{"displayName":"a\u0000b"}`} {
		if _, err := DecodeGroup([]byte(bad)); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("%s: %v; want EINVALID", bad, err)
		}
	}
}

func TestApplyGroupPatch(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  string
		want GroupPatch
	}{
		{"OktaAdd", `[{"op":"add","path":"members","value":[{"value":"` + idA + `","display":"a@x"}]}]`,
			GroupPatch{DisplayName: "G", Add: []string{idA}}},
		{"OktaRemoveFilter", `[{"op":"remove","path":"members[value eq \"` + idA + `\"]"}]`,
			GroupPatch{DisplayName: "G", Remove: []string{idA}}},
		{"OktaRename", `[{"op":"replace","value":{"id":"x","displayName":"New"}}]`,
			GroupPatch{DisplayName: "New"}},
		{"NoPathExternalId", `[{"op":"replace","value":{"externalId":"e2"}}]`,
			GroupPatch{DisplayName: "G", ExternalID: "e2"}},
		{"EntraAdd", `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + idA + `"},{"$ref":null,"value":"` + idB + `"}]}]`,
			GroupPatch{DisplayName: "G", Add: []string{idA, idB}}},
		{"EntraRemoveListed", `[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"` + idB + `"}]}]`,
			GroupPatch{DisplayName: "G", Remove: []string{idB}}},
		{"EntraReplaceName", `[{"op":"Replace","path":"displayName","value":"New"}]`,
			GroupPatch{DisplayName: "New"}},
		{"ReplaceMembers", `[{"op":"replace","path":"members","value":[{"value":"` + idC + `"}]}]`,
			GroupPatch{DisplayName: "G", Replace: []string{idC}}},
		{"RemoveAllMembers", `[{"op":"remove","path":"members"}]`,
			GroupPatch{DisplayName: "G", Replace: []string{}}},
		{"AddThenRemove", `[{"op":"add","path":"members","value":[{"value":"` + idA + `"}]},{"op":"remove","path":"members[value eq \"` + idA + `\"]"}]`,
			GroupPatch{DisplayName: "G", Add: []string{}, Remove: []string{idA}}},
		{"URNPath", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName","value":"U"}]`,
			GroupPatch{DisplayName: "U"}},
		{"RemoveExternalId", `[{"op":"remove","path":"externalId"}]`, GroupPatch{DisplayName: "G"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := DecodePatch([]byte(`{"schemas":["` + SchemaPatchOp + `"],"Operations":` + tt.ops + `}`))
			if err != nil {
				t.Fatal(err)
			}
			ext := ""
			if tt.name == "RemoveExternalId" {
				ext = "e1"
			}
			got, err := ApplyGroupPatch("G", ext, ops)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{
		`[{"op":"remove"}]`,
		`[{"op":"replace","path":"displayName","value":""}]`,
		`[{"op":"replace","path":"title","value":"x"}]`,
		`[{"op":"remove","path":"members[display eq \"x\"]"}]`,
		`[{"op":"add","value":{"owner":"x"}}]`,
		`[{"op":"add","path":"members","value":[{"display":"x"}]}]`,
		`[{"op":"replace","value":"x"}]`,
	} {
		ops, err := DecodePatch([]byte(`{"Operations":` + bad + `}`))
		if err == nil {
			_, err = ApplyGroupPatch("G", "", ops)
		}
		if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("%s: %v; want EINVALID", bad, err)
		}
	}
}

func TestEncodeGroup(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	g := scimbridge.Group{ID: idA, DisplayName: "Sales", ExternalID: "e1", Version: 3, CreatedAt: at, UpdatedAt: at}
	members := []scimbridge.GroupMember{{ProfileID: idB, UserName: "b@x"}, {ProfileID: idC, UserName: "c@x", DisplayName: "C"}}
	b, err := EncodeGroup(g, members, EncodeOptions{BaseURL: "https://h/scim/"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"` + idA + `","externalId":"e1","displayName":"Sales",` +
		`"members":[{"value":"` + idB + `","display":"b@x","$ref":"https://h/scim/Users/` + idB + `","type":"User"},` +
		`{"value":"` + idC + `","display":"C","$ref":"https://h/scim/Users/` + idC + `","type":"User"}],` +
		`"meta":{"resourceType":"Group","created":"2026-01-02T03:04:05Z","lastModified":"2026-01-02T03:04:05Z","location":"https://h/scim/Groups/` + idA + `","version":"W/\"3\""}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	for _, tt := range []struct {
		attrs, excluded []string
		keys            []string
	}{
		{nil, []string{"members"}, []string{"displayName", "externalId", "id", "meta", "schemas"}},
		{[]string{"displayName"}, nil, []string{"displayName", "id", "schemas"}},
		{[]string{"urn:ietf:params:scim:schemas:core:2.0:Group:members.value"}, nil, []string{"id", "members", "schemas"}},
	} {
		if GroupMembersWanted(tt.attrs, tt.excluded) != contains(tt.keys, "members") {
			t.Errorf("GroupMembersWanted(%v, %v)", tt.attrs, tt.excluded)
		}
		b, _ := EncodeGroup(g, members, EncodeOptions{Attributes: tt.attrs, ExcludedAttributes: tt.excluded})
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		if len(keys) != len(tt.keys) {
			t.Errorf("attrs %v excluded %v: keys %v, want %v", tt.attrs, tt.excluded, keys, tt.keys)
		}
	}
}
