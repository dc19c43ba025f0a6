package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestPurger_Once(t *testing.T) {
	db := storetest.OpenSQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "acme", CreatedAt: now, AdoptExisting: true}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	var events []scimbridge.Event
	for i, age := range []time.Duration{91 * 24 * time.Hour, 90*24*time.Hour + time.Minute, 89 * 24 * time.Hour, time.Hour} {
		events = append(events, scimbridge.Event{OrgID: org.ID, Time: now.Add(-age), Method: "GET",
			Path: "/api/connect/v1/Users", Status: 200 + i, Source: scimbridge.EventIdP, Count: 1})
	}
	if err := db.AppendEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	p := purger{db: db, clock: func() time.Time { return now }, logger: slog.New(slog.DiscardHandler),
		events: 90 * 24 * time.Hour}
	p.once(ctx)
	page, err := db.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	var kept []int
	for _, ev := range page.Events {
		kept = append(kept, ev.Status)
	}
	if len(kept) != 2 || kept[0] != 203 || kept[1] != 202 {
		t.Errorf("after purge the events with status %v remain, want [203 202]", kept)
	}
}

func TestPurger_RunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := purger{db: storetest.OpenSQLite(t), clock: time.Now, logger: slog.New(slog.DiscardHandler),
		events: time.Hour}
	go func() { done <- p.run(ctx, time.Millisecond, time.Millisecond) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestParseTimeFlag(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2026-06-01T08:30:00Z", time.Date(2026, 6, 1, 8, 30, 0, 0, time.UTC), true},
		{"2026-06-01T10:30:00+02:00", time.Date(2026, 6, 1, 8, 30, 0, 0, time.UTC), true},
		{"2026-06-01", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"24h", now.Add(-24 * time.Hour), true},
		{"7d", now.Add(-7 * 24 * time.Hour), true},
		{"-1h", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTimeFlag(tt.in, now)
			if (err == nil) != tt.ok || !got.Equal(tt.want) {
				t.Errorf("parseTimeFlag(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestBoundPublicURL(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}
	for in, want := range map[string]string{
		"http://127.0.0.1:0":             "http://127.0.0.1:41234",
		"https://localhost:0/prefix":     "https://localhost:41234/prefix",
		"https://scim.example.com":       "https://scim.example.com",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://scim.example.com:8443/": "https://scim.example.com:8443/",
	} {
		if got := boundPublicURL(in, addr); got != want {
			t.Errorf("boundPublicURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProfileResource_AddsSourceAndGoogleID(t *testing.T) {
	p := scimbridge.Profile{ID: uuid.NewString(), Attributes: scimbridge.Attributes{UserName: "a@x.test"},
		State: scimbridge.StateActive, Source: scimbridge.SourceGoogle, GoogleID: "118000000000000000001", Version: 3}
	b, err := profileResource(context.Background(), p, "https://x.test/api/connect/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if m["source"] != "google" || m["googleId"] != "118000000000000000001" || m["userName"] != "a@x.test" || m["id"] != p.ID {
		t.Errorf("resource = %s", b)
	}
	if bytes.Count(b, []byte(`"source"`)) != 1 {
		t.Errorf("source appears more than once: %s", b)
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
