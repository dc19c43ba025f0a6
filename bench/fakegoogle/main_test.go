package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// TestNewDirectory_GroupsAndQuota serves generated groups with -groups and
// admits any number of requests unless -quota is given.
func TestNewDirectory_GroupsAndQuota(t *testing.T) {
	for _, tc := range []struct {
		name        string
		quota       int
		wantLimited bool
	}{{"NoQuota", 0, false}, {"Quota", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDirectory(30, 1, fakegoogle.ShapeLean, 250, 4, tc.quota)
			ts := httptest.NewServer(d.handler())
			t.Cleanup(ts.Close)
			var f map[string]string
			json.Unmarshal(d.srv.RefreshTokenFile(), &f)
			resp, err := http.PostForm(ts.URL+fakegoogle.TokenPath, url.Values{"grant_type": {"refresh_token"},
				"client_id": {f["client_id"]}, "client_secret": {f["client_secret"]}, "refresh_token": {f["refresh_token"]}})
			if err != nil {
				t.Fatal(err)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			statuses := map[int]int{}
			groups := 0
			for i := 0; i < 5; i++ {
				req, _ := http.NewRequestWithContext(context.Background(), "GET", ts.URL+fakegoogle.GroupsPath+"?customer=my_customer", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var page struct {
					Groups []json.RawMessage `json:"groups"`
				}
				json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusOK {
					groups = len(page.Groups)
				}
			}
			if groups != fakegoogle.GroupPageSize {
				t.Fatalf("first page has %d groups, want %d", groups, fakegoogle.GroupPageSize)
			}
			if limited := statuses[http.StatusForbidden] > 0; limited != tc.wantLimited {
				t.Fatalf("statuses %v with quota %d", statuses, tc.quota)
			}
		})
	}
}

// TestNewDirectory_MillionUsersWithGroupsHoldsNone: a directory of a
// million users and 5,000 groups computes users and members as they are
// asked for: building it allocates no user (a million full-projection
// users held in memory were gigabytes), and a group's USER members are
// users of the directory.
func TestNewDirectory_MillionUsersWithGroupsHoldsNone(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := newDirectory(1_000_000, 1, fakegoogle.ShapeFull, 5000, 50, 0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Fatalf("a directory of 1M users holds %d MB", grew>>20)
	}
	users := 0
	for j := range d.churn.MemberCount(4321) {
		m := d.churn.Member(4321, j)
		if m.Type != fakegoogle.MemberUser {
			continue
		}
		users++
		// A generated user's address ends in its place in the directory,
		// counted from 1.
		local, _, _ := strings.Cut(m.Email, "@")
		k, err := strconv.Atoi(local[strings.LastIndexByte(local, '.')+1:])
		if err != nil || k < 1 || k > d.gen.Len() || d.gen.User(k-1).Id != m.Id || d.gen.User(k-1).PrimaryEmail != m.Email {
			t.Fatalf("member %d of group 4321 is not a directory user: %s %s", j, m.Id, m.Email)
		}
	}
	if users < 30 {
		t.Fatalf("group 4321 has %d user members of about 50", users)
	}
	runtime.KeepAlive(d)
}
