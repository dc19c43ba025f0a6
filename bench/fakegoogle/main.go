// Command fakegoogle serves a generated N-user Google directory (and, with
// -groups, generated groups and members) on a loopback address, for
// benchmarks and manual runs of the bridge. Google's query quota is off
// unless -quota is given. It writes a service-account key and an OAuth
// refresh-token file the fake accepts, and prints the endpoints to configure (google.api_endpoint, google.token_url).
// Under /_admin/ a benchmark changes a share of the users and reads the
// request counters (see directory.handler).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakegoogle:", err)
		os.Exit(1)
	}
}

// newDirectory generates users of the shape, and groups of about members
// members each drawn from them, and serves them admitting quota API
// requests a minute (0: any number). The users are computed page by page
// as they are listed, and a group's members as they are, so a directory
// of millions costs the fake no memory.
func newDirectory(users int, seed int64, shape fakegoogle.Shape, groups, members, quota int) *directory {
	srv := fakegoogle.NewServer()
	gen := fakegoogle.NewGenerated(users, seed, shape)
	d := &directory{srv: srv, gen: gen}
	srv.SetSource(gen)
	if groups > 0 {
		d.churn = &churnedGroups{base: fakegoogle.GenerateGroupsFrom(gen, groups, members, seed), users: gen}
		srv.SetGroups(d.churn)
	}
	srv.SetQuota(quota)
	return d
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakegoogle", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	users := fs.Int("users", 1000, "number of generated users")
	seed := fs.Int64("seed", 1, "seed of the generated directory")
	shapeName := fs.String("shape", string(fakegoogle.ShapeLean), "generated users: lean, or full (Google's full projection, about 720 bytes each)")
	dir := fs.String("dir", ".", "directory to write service-account-key.json and refresh-token.json into")
	groups := fs.Int("groups", 0, "number of generated groups (members drawn from the users)")
	members := fs.Int("members", 50, "about how many direct members each generated group has")
	quota := fs.Int("quota", 0, "API requests a minute the fake admits (Google's default is 2400); 0: no limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	shape, err := fakegoogle.ParseShape(*shapeName)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("parse listen address: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("listen address %s is not a loopback address", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	tokenURL := base + fakegoogle.TokenPath

	d := newDirectory(*users, *seed, shape, *groups, *members, *quota)
	srv := d.srv
	keyFile := filepath.Join(*dir, "service-account-key.json")
	if err := os.WriteFile(keyFile, srv.ServiceAccountKey(tokenURL), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	refreshFile := filepath.Join(*dir, "refresh-token.json")
	if err := os.WriteFile(refreshFile, srv.RefreshTokenFile(), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("write refresh token file: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(map[string]any{
		"api_endpoint":       base + "/",
		"token_url":          tokenURL,
		"service_account":    keyFile,
		"refresh_token_file": refreshFile,
		"users":              *users,
		"shape":              shape,
		"groups":             *groups,
		"quota_per_minute":   *quota,
	})

	hs := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
