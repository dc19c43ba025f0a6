package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// TestServe_UncleanSCIMPathsAreLoggedNotFound: through the daemon's own
// listener and router, paths under the SCIM base URL that a ServeMux would
// redirect, and the base URL without a trailing slash, are a SCIM 404 with
// an event, never a redirect.
func TestServe_UncleanSCIMPathsAreLoggedNotFound(t *testing.T) {
	cfg := testConfig(t)
	s := startServe(t, cfg)
	token := readCredentials(t, filepath.Join(cfg.DataDir, "bootstrap-credentials"))["scim_token"]
	paths := []string{
		"/api/connect/v1//Users",
		"/api/connect/v1/./Users",
		"/api/connect/v1/Users/../Users",
		"/api/connect/v1",
		"//api/connect/v1/Users",
	}
	for i, p := range paths {
		status, header := rawGet(t, s.addrs.Main.String(), p, token, fmt.Sprintf("unclean-%d", i))
		if status != http.StatusNotFound || header.Get("Content-Type") != "application/scim+json" || header.Get("Location") != "" {
			t.Errorf("GET %s = %d %q Location %q, want a SCIM 404", p, status, header.Get("Content-Type"), header.Get("Location"))
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _, err := db.OrganizationSCIMConfig(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	page, err := db.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventIdP, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]int{}
	for _, ev := range page.Events {
		logged[ev.RequestID] = ev.Status
	}
	for i, p := range paths {
		if got := logged[fmt.Sprintf("unclean-%d", i)]; got != http.StatusNotFound {
			t.Errorf("GET %s: event status %d, want one 404 event", p, got)
		}
	}
}

// rawGet sends GET path exactly as given (no client-side cleaning) and
// returns the status and header of the answer.
func rawGet(t *testing.T, addr, path, token, requestID string) (int, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Request-Id: %s\r\nConnection: close\r\n\r\n", path, token, requestID)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header
}
