// Command bridgefloor times the Google client alone paging through a whole
// directory: the same client, credentials, fields mask and page size a
// bridge run uses, and nothing else (no store, no plan). It is the floor a
// bridge sync is measured against; bench/bridge-sync.sh runs it against the
// fake Google before each sync.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bridgefloor:", err)
		os.Exit(1)
	}
}

// result is what bridgefloor prints.
type result struct {
	Users int `json:"users"`
	Pages int `json:"pages"`
	// Seconds are the timed passes; Best is the fastest.
	Seconds []float64 `json:"seconds"`
	Best    float64   `json:"best_seconds"`
	// AllocMB is what one timed pass allocated, on average.
	AllocMB float64 `json:"alloc_mb_per_pass"`
	// Groups and Members are listed with -groups, beside the users.
	Groups  int `json:"groups,omitempty"`
	Members int `json:"members,omitempty"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bridgefloor", flag.ContinueOnError)
	api := fs.String("api-endpoint", "", "Directory API `URL` (google.api_endpoint)")
	tokenURL := fs.String("token-url", "", "OAuth token `URL` (google.token_url)")
	keyFile := fs.String("credentials", "", "service-account key `FILE`")
	adminEmail := fs.String("admin-email", "admin@example.com", "admin `EMAIL` to impersonate")
	warmup := fs.Int("warmup", 1, "untimed passes first (the fake renders its users on the first)")
	passes := fs.Int("passes", 3, "timed passes")
	withGroups := fs.Bool("groups", false, "also list every group and its members, beside the users, as a run with groups does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *tokenURL == "" || *keyFile == "" || *passes < 1 {
		return errors.New("need -api-endpoint, -token-url, -credentials and -passes >= 1")
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	creds, err := bridge.ParseServiceAccount(raw, *adminEmail, *tokenURL)
	if err != nil {
		return err
	}
	var opts []bridge.Option
	if *withGroups {
		opts = append(opts, bridge.WithGroups())
	}
	dir, err := bridge.NewDirectory(ctx, creds, bridge.Endpoints{APIEndpoint: *api, TokenURL: *tokenURL}, nil,
		slog.New(slog.DiscardHandler), time.Now, opts...)
	if err != nil {
		return err
	}
	var res result
	// Pages are dropped as they arrive, as a run converts them.
	list := func() (users, pages int, err error) {
		l, err := dir.EachPage(ctx, "", false, func(page []bridge.GoogleUser) error {
			users += len(page)
			return nil
		})
		return users, l.Pages, err
	}
	for i := 0; i < *warmup; i++ {
		if _, _, err := list(); err != nil {
			return err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < *passes; i++ {
		start := time.Now()
		var gerr error
		gdone := make(chan struct{})
		go func() {
			defer close(gdone)
			if *withGroups {
				res.Groups, res.Members, gerr = listGroups(ctx, dir)
			}
		}()
		users, pages, err := list()
		<-gdone
		if err != nil {
			return err
		}
		if gerr != nil {
			return gerr
		}
		res.Seconds = append(res.Seconds, time.Since(start).Seconds())
		res.Users, res.Pages = users, pages
	}
	runtime.ReadMemStats(&after)
	res.Best = slices.Min(res.Seconds)
	res.AllocMB = float64(after.TotalAlloc-before.TotalAlloc) / float64(*passes) / (1 << 20)
	enc := json.NewEncoder(stdout)
	return enc.Encode(res)
}
