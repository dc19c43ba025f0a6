package fakegoogle

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"runtime"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"
)

// bridgeMask is the bridge's users.list fields mask.
const bridgeMask = "nextPageToken,users(id,primaryEmail,aliases,nonEditableAliases," +
	"name(givenName,familyName,fullName),suspended,archived,deletionTime,isGuestUser," +
	"orgUnitPath,organizations,externalIds,relations,languages)"

// TestGenerated_PagesComputedOnDemand lists a generated directory through
// the server under the bridge's mask: every user once, unique ids and
// emails, the same users for the same seed, the full shape larger than the
// lean one, and a retitled user listed with its new title.
func TestGenerated_PagesComputedOnDemand(t *testing.T) {
	sizes := map[Shape]int{}
	for _, shape := range []Shape{ShapeLean, ShapeFull} {
		f := newFixture(t)
		gen := NewGenerated(1203, 7, shape)
		f.s.SetSource(gen)
		ids, emails := map[string]bool{}, map[string]bool{}
		bytesTotal, tok := 0, ""
		for {
			q := url.Values{"customer": {"my_customer"}, "maxResults": {"500"}, "fields": {bridgeMask}}
			if tok != "" {
				q.Set("pageToken", tok)
			}
			resp, body := f.get(t, q.Encode())
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var page struct {
				Users         []json.RawMessage `json:"users"`
				NextPageToken string            `json:"nextPageToken"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, raw := range page.Users {
				bytesTotal += len(raw)
				var u admin.User
				if err := json.Unmarshal(raw, &u); err != nil {
					t.Fatal(err)
				}
				if u.Etag != "" || u.CreationTime != "" {
					t.Fatalf("mask not applied: %s", raw)
				}
				if ids[u.Id] || emails[u.PrimaryEmail] {
					t.Fatalf("user %s %s listed twice", u.Id, u.PrimaryEmail)
				}
				ids[u.Id], emails[u.PrimaryEmail] = true, true
			}
			if tok = page.NextPageToken; tok == "" {
				break
			}
		}
		if len(ids) != 1203 {
			t.Fatalf("%s: listed %d users, want 1203", shape, len(ids))
		}
		sizes[shape] = bytesTotal / len(ids)
		a, _ := json.Marshal(gen.User(600))
		b, _ := json.Marshal(NewGenerated(1203, 7, shape).User(600))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: user 600 differs for the same seed", shape)
		}
		if n := gen.Retitle(600, 1000, "Changed"); n != 1 {
			t.Fatalf("retitled %d users, want 1", n)
		}
		if title := gen.User(600).Organizations.([]admin.UserOrganization)[0].Title; title != "Changed" {
			t.Fatalf("retitled user has title %q", title)
		}
	}
	if sizes[ShapeFull] < 650 || sizes[ShapeFull] > 800 || sizes[ShapeLean] >= sizes[ShapeFull] {
		t.Fatalf("bytes per user under the bridge's mask: %v, want full about 720 and lean less", sizes)
	}
	t.Logf("bytes per user: %v", sizes)
}

// TestGenerated_BoundedMemory serves a page from the end of a million-user
// directory without the server's heap growing with the directory.
func TestGenerated_BoundedMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := newFixture(t)
	f.s.SetSource(NewGenerated(1_000_000, 1, ShapeFull))
	resp, body := f.get(t, url.Values{"customer": {"my_customer"}, "maxResults": {"500"},
		"pageToken": {encodePageToken(999_500)}}.Encode())
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(".1000000@")) {
		t.Fatalf("status %d, last page without the last user", resp.StatusCode)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 20<<20 {
		t.Fatalf("heap grew by %d bytes serving one page of a million users", grown)
	}
}

// TestGenerated_RawJSONMatchesMarshal checks that the JSON the generated
// directory writes itself is what marshalling its admin.User gives, whole
// and under the bridge's mask, for both shapes.
func TestGenerated_RawJSONMatchesMarshal(t *testing.T) {
	full, err := parseMask(bridgeMask)
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range []Shape{ShapeLean, ShapeFull} {
		g := NewGenerated(3000, 3, shape)
		g.Retitle(5, 100, "Retitled")
		for _, m := range []mask{nil, full["users"]} {
			for i := 0; i < 3000; i += 7 {
				want, err := renderUser(g.User(i), m)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				g.appendUser(&buf, i, m)
				var a, b any
				if err := json.Unmarshal(want, &a); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(buf.Bytes(), &b); err != nil {
					t.Fatalf("%s user %d: %v\n%s", shape, i, err, buf.Bytes())
				}
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s user %d, mask %v:\nmarshal %s\nraw     %s", shape, i, m, want, buf.Bytes())
				}
			}
		}
	}
}
