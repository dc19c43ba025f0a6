package scimserver

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	const (
		userURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
		entURN   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
		groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
	)
	get := func(t *testing.T, path string) map[string]any {
		t.Helper()
		res := e.do(req{method: "GET", path: path})
		mustStatus(t, res, http.StatusOK)
		if res.header.Get("Content-Type") != "application/scim+json" {
			t.Fatalf("content type %q", res.header.Get("Content-Type"))
		}
		return res.json(t)
	}
	t.Run("ServiceProviderConfig", func(t *testing.T) {
		c := get(t, "/ServiceProviderConfig")
		checks := map[string]any{
			"patch":          map[string]any{"supported": true},
			"bulk":           map[string]any{"supported": false, "maxOperations": float64(0), "maxPayloadSize": float64(0)},
			"filter":         map[string]any{"supported": true, "maxResults": float64(1000)},
			"changePassword": map[string]any{"supported": false},
			"sort":           map[string]any{"supported": true},
			"etag":           map[string]any{"supported": true},
		}
		for k, want := range checks {
			if err := matchValue(want, c[k], k, nil); err != nil {
				t.Error(err)
			}
		}
		if err := matchValue(map[string]any{"location": e.base + "/ServiceProviderConfig"}, c["meta"], "meta", nil); err != nil {
			t.Error(err)
		}
		if schemes, _ := c["authenticationSchemes"].([]any); len(schemes) != 1 {
			t.Errorf("authenticationSchemes %v", c["authenticationSchemes"])
		}
	})
	t.Run("ResourceTypes", func(t *testing.T) {
		l := get(t, "/ResourceTypes")
		want := map[string]any{"totalResults": float64(2), "Resources": []any{map[string]any{
			"id": "User", "endpoint": "/Users", "schema": userURN,
			"schemaExtensions": []any{map[string]any{"schema": entURN, "required": false}},
			"meta":             map[string]any{"location": e.base + "/ResourceTypes/User"},
		}, map[string]any{
			"id": "Group", "endpoint": "/Groups", "schema": groupURN, "schemaExtensions": []any{},
			"meta": map[string]any{"location": e.base + "/ResourceTypes/Group"},
		}}}
		if err := matchValue(want, any(l), "ResourceTypes", nil); err != nil {
			t.Error(err)
		}
		if get(t, "/ResourceTypes/User")["id"] != "User" {
			t.Error("ResourceTypes/User")
		}
		if get(t, "/ResourceTypes/Group")["endpoint"] != "/Groups" {
			t.Error("ResourceTypes/Group")
		}
		mustStatus(t, e.do(req{method: "GET", path: "/ResourceTypes/Role"}), http.StatusNotFound)
	})
	t.Run("Schemas", func(t *testing.T) {
		l := get(t, "/Schemas")
		if l["totalResults"] != float64(3) {
			t.Fatalf("schemas %v", l["totalResults"])
		}
		user := get(t, "/Schemas/"+url.PathEscape(userURN))
		attrs := map[string]map[string]any{}
		for _, a := range user["attributes"].([]any) {
			m := a.(map[string]any)
			attrs[m["name"].(string)] = m
		}
		for name, want := range map[string]map[string]any{
			"userName": {"required": true, "caseExact": false, "uniqueness": "server", "mutability": "readWrite"},
			"password": {"mutability": "writeOnly", "returned": "never"},
			"active":   {"type": "boolean"},
			"emails":   {"multiValued": true, "type": "complex"},
		} {
			if err := matchValue(any(want), any(attrs[name]), name, nil); err != nil {
				t.Error(err)
			}
		}
		if err := matchValue(map[string]any{"multiValued": true, "mutability": "readOnly"}, any(attrs["groups"]), "groups", nil); err != nil {
			t.Error(err)
		}
		group := get(t, "/Schemas/"+url.PathEscape(groupURN))
		gattrs := map[string]map[string]any{}
		for _, a := range group["attributes"].([]any) {
			m := a.(map[string]any)
			gattrs[m["name"].(string)] = m
		}
		if len(gattrs) != 2 {
			t.Errorf("group attributes %v", gattrs)
		}
		for name, want := range map[string]map[string]any{
			"displayName": {"required": true, "caseExact": false, "uniqueness": "server"},
			"members":     {"multiValued": true, "type": "complex", "mutability": "readWrite"},
		} {
			if err := matchValue(any(want), any(gattrs[name]), name, nil); err != nil {
				t.Error(err)
			}
		}
		ent := get(t, "/Schemas/"+entURN)
		if ent["id"] != entURN || len(ent["attributes"].([]any)) != 6 {
			t.Errorf("enterprise schema %v", ent)
		}
		for _, name := range []string{"phoneNumbers", "addresses"} {
			if err := matchValue(map[string]any{"multiValued": true, "type": "complex", "mutability": "readWrite"}, any(attrs[name]), name, nil); err != nil {
				t.Error(err)
			}
		}
		// caseExact is false exactly for the attributes filters compare
		// case-insensitively (the store's catalogue says which).
		advertised := map[string]map[string]any{}
		var walk func(urn, prefix string, list []any)
		walk = func(urn, prefix string, list []any) {
			for _, a := range list {
				m := a.(map[string]any)
				name := prefix + m["name"].(string)
				advertised[urn+":"+name] = m
				if subs, ok := m["subAttributes"].([]any); ok {
					walk(urn, name+".", subs)
				}
			}
		}
		walk(userURN, "", user["attributes"].([]any))
		walk(entURN, "", ent["attributes"].([]any))
		folded := 0
		for _, info := range store.FilterAttributes() {
			a := advertised[info.Schema+":"+info.Name]
			if a == nil || info.Type != "string" {
				continue
			}
			if a["caseExact"] != info.CaseExact {
				t.Errorf("%s: /Schemas says caseExact %v, filters compare with caseExact %v", info.Name, a["caseExact"], info.CaseExact)
			}
			if !info.CaseExact {
				folded++
			}
		}
		if folded != 3 { // userName, displayName, emails.value
			t.Errorf("%d case-insensitive filter attributes, want 3", folded)
		}
		walk(groupURN, "", group["attributes"].([]any))
		folded = 0
		for _, info := range store.GroupFilterAttributes() {
			a := advertised[info.Schema+":"+info.Name]
			if a == nil || info.Type != "string" {
				continue
			}
			if a["caseExact"] != info.CaseExact {
				t.Errorf("group %s: /Schemas says caseExact %v, filters compare with caseExact %v", info.Name, a["caseExact"], info.CaseExact)
			}
			if !info.CaseExact {
				folded++
			}
		}
		if folded != 2 { // displayName, members.value
			t.Errorf("%d case-insensitive group filter attributes, want 2", folded)
		}
		mustStatus(t, e.do(req{method: "GET", path: "/Schemas/urn:nope"}), http.StatusNotFound)
	})
	t.Run("NoTokenNoDiscovery", func(t *testing.T) {
		mustStatus(t, e.do(req{method: "GET", path: "/ServiceProviderConfig", token: "-"}), http.StatusUnauthorized)
	})
}
