package bridge_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

const adminEmail = "admin@example.com"

// fakeEnv is a fake Google (API and token endpoint) on a loopback port.
type fakeEnv struct {
	fake *fakegoogle.Server
	srv  *httptest.Server
	ep   bridge.Endpoints

	mu     sync.Mutex
	sleeps []time.Duration
}

func newFakeEnv(tb testing.TB) *fakeEnv {
	tb.Helper()
	e := &fakeEnv{fake: fakegoogle.NewServer()}
	e.srv = httptest.NewServer(e.fake.Handler())
	tb.Cleanup(e.srv.Close)
	e.ep = bridge.Endpoints{APIEndpoint: e.srv.URL + "/", TokenURL: e.srv.URL + fakegoogle.TokenPath}
	return e
}

func (e *fakeEnv) serviceAccount(tb testing.TB) bridge.Credentials {
	tb.Helper()
	creds, err := bridge.ParseServiceAccount(e.fake.ServiceAccountKey(e.ep.TokenURL), adminEmail, e.ep.TokenURL)
	if err != nil {
		tb.Fatal(err)
	}
	return creds
}

func (e *fakeEnv) oauth(tb testing.TB) bridge.Credentials {
	tb.Helper()
	creds, err := bridge.ParseOAuthRefreshToken(e.fake.RefreshTokenFile(), e.ep.TokenURL)
	if err != nil {
		tb.Fatal(err)
	}
	return creds
}

// retryPolicy sleeps not at all and records what it was asked to sleep.
func (e *fakeEnv) retryPolicy() bridge.RetryPolicy {
	p := bridge.DefaultRetryPolicy()
	p.Sleep = func(ctx context.Context, d time.Duration) error {
		e.mu.Lock()
		e.sleeps = append(e.sleeps, d)
		e.mu.Unlock()
		return ctx.Err()
	}
	return p
}

func (e *fakeEnv) slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

func (e *fakeEnv) directory(tb testing.TB, creds bridge.Credentials, opts ...bridge.Option) *bridge.Directory {
	tb.Helper()
	opts = append([]bridge.Option{bridge.WithRetryPolicy(e.retryPolicy())}, opts...)
	d, err := bridge.NewDirectory(context.Background(), creds, e.ep, &http.Client{Timeout: 30 * time.Second},
		slog.New(slog.DiscardHandler), time.Now, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func refreshField(tb testing.TB, e *fakeEnv, name string) string {
	tb.Helper()
	var f map[string]string
	if err := json.Unmarshal(e.fake.RefreshTokenFile(), &f); err != nil {
		tb.Fatal(err)
	}
	return f[name]
}
