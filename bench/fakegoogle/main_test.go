package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
