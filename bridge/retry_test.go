package bridge_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

func TestDirectory_Retry(t *testing.T) {
	ctx := context.Background()

	transient := []struct {
		name       string
		status     int
		reason     string
		retryAfter string
	}{
		{"TooManyRequests", http.StatusTooManyRequests, "rateLimitExceeded", ""},
		{"RateLimitExceeded403", http.StatusForbidden, "rateLimitExceeded", ""},
		{"UserRateLimitExceeded403", http.StatusForbidden, "userRateLimitExceeded", ""},
		{"QuotaExceeded403", http.StatusForbidden, "quotaExceeded", ""},
		{"ServiceUnavailableRetryAfter", http.StatusServiceUnavailable, "backendError", "7"},
		{"InternalError", http.StatusInternalServerError, "internalError", ""},
	}
	for _, tc := range transient {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			e.fake.SetUsers(fakegoogle.GenerateUsers(1200, 3))
			e.fake.FailPageWith(2, fakegoogle.Failure{Status: tc.status, Reason: tc.reason, RetryAfter: tc.retryAfter, Times: 2})
			d := e.directory(t, e.serviceAccount(t))
			l, err := d.ListUsers(ctx, "", false)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Users) != 1200 || l.Pages != 3 || l.Retries != 2 {
				t.Fatalf("%d users, %d pages, %d retries; want 1200, 3, 2", len(l.Users), l.Pages, l.Retries)
			}
			if got := e.fake.Requests(); got != 5 {
				t.Fatalf("requests = %d, want 5", got)
			}
			sleeps := e.slept()
			if len(sleeps) != 2 {
				t.Fatalf("slept %v, want two backoffs", sleeps)
			}
			if tc.retryAfter != "" {
				for _, s := range sleeps {
					if s < 7*time.Second {
						t.Fatalf("slept %v despite Retry-After: 7", sleeps)
					}
				}
			}
			st := d.Stats()
			if st.Retries != 2 || st.RetriesByReason[tc.reason] != 2 || st.Pages != 3 || st.Requests != 5 {
				t.Fatalf("stats %+v", st)
			}
		})
	}

	t.Run("KeepsFailing", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(1200, 3))
		e.fake.FailPage(2, http.StatusServiceUnavailable, "backendError", -1)
		d := e.directory(t, e.serviceAccount(t))
		l, err := d.ListUsers(ctx, "", false)
		if err == nil {
			t.Fatal("a listing with a page that always fails succeeded")
		}
		if l.Users != nil {
			t.Fatalf("an incomplete listing returned %d users", len(l.Users))
		}
		if bridge.IsPermanent(err) {
			t.Fatalf("a transient failure reported as permanent: %v", err)
		}
		max := bridge.DefaultRetryPolicy().MaxAttempts
		if got := e.fake.Requests(); got != 1+max {
			t.Fatalf("requests = %d, want 1 + %d attempts", got, max)
		}
		if st := d.Stats(); st.ErrorsByReason["backendError"] != 1 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("BackoffGrowsAndIsCapped", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(1, 3))
		e.fake.FailPage(1, http.StatusBadGateway, "", -1)
		p := e.retryPolicy()
		p.BaseDelay, p.MaxDelay, p.MaxAttempts = time.Second, 4*time.Second, 6
		d, err := bridge.NewDirectory(ctx, e.serviceAccount(t), e.ep, nil, nil, nil, bridge.WithRetryPolicy(p))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.ListUsers(ctx, "", false); err == nil {
			t.Fatal("succeeded")
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
		got := e.slept()
		if len(got) != len(want) {
			t.Fatalf("slept %v, want %d backoffs", got, len(want))
		}
		for i := range want {
			if got[i] < want[i]/2 || got[i] >= want[i] {
				t.Fatalf("backoff %d = %v, want in [%v, %v)", i+1, got[i], want[i]/2, want[i])
			}
		}
	})

	permanent := []struct {
		name    string
		status  int
		reason  string
		message string
	}{
		{"Forbidden403", http.StatusForbidden, "forbidden", "Not Authorized to access this resource/api"},
		{"AccessNotConfigured", http.StatusForbidden, "accessNotConfigured", "Admin SDK API has not been used in project 1 before or it is disabled."},
		{"BadRequest", http.StatusBadRequest, "invalid", "Invalid Input"},
		{"NotFound", http.StatusNotFound, "notFound", "Resource Not Found: domain"},
		{"Unauthorized", http.StatusUnauthorized, "authError", "Invalid Credentials"},
	}
	for _, tc := range permanent {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			e.fake.SetUsers(fakegoogle.GenerateUsers(3, 3))
			e.fake.FailAll(tc.status, tc.reason, tc.message)
			d := e.directory(t, e.serviceAccount(t))
			l, err := d.ListUsers(ctx, "", false)
			var pe *bridge.PermanentError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *PermanentError", err)
			}
			if pe.Reason != tc.reason || pe.Message != tc.message || pe.Status != tc.status {
				t.Fatalf("permanent error %+v, want %d %s %q", pe, tc.status, tc.reason, tc.message)
			}
			if got := e.fake.Requests(); got != 1 {
				t.Fatalf("requests = %d, want exactly 1", got)
			}
			if l.Users != nil || len(e.slept()) != 0 {
				t.Fatalf("users %d, sleeps %v", len(l.Users), e.slept())
			}
			if st := d.Stats(); st.ErrorsByReason[tc.reason] != 1 || st.Retries != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}

	t.Run("RevokedAccessToken", func(t *testing.T) {
		e := newFakeEnv(t)
		d := e.directory(t, e.serviceAccount(t))
		if _, err := d.ListUsers(ctx, "", false); err != nil {
			t.Fatal(err)
		}
		e.fake.RevokeTokens()
		_, err := d.ListUsers(ctx, "", false)
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized {
			t.Fatalf("err = %v, want a permanent 401", err)
		}
	})

	t.Run("InvalidGrantRefreshToken", func(t *testing.T) {
		e := newFakeEnv(t)
		c, err := bridge.ParseOAuthRefreshToken([]byte(`{"client_id":"`+clientIDOf(t, e)+`","client_secret":"`+clientSecretOf(t, e)+`","refresh_token":"1//revoked"}`), e.ep.TokenURL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.directory(t, c).ListUsers(ctx, "", false)
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Reason != "invalid_grant" || pe.Message != "Token has been expired or revoked." {
			t.Fatalf("err = %v, want invalid_grant with Google's description", err)
		}
		if e.fake.TokenRequests() != 1 || e.fake.Requests() != 0 {
			t.Fatalf("%d token, %d API requests; want 1, 0", e.fake.TokenRequests(), e.fake.Requests())
		}
	})

	t.Run("InvalidGrantServiceAccount", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.FailToken(http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.", -1)
		_, err := e.directory(t, e.serviceAccount(t)).ListUsers(ctx, "", false)
		var pe *bridge.PermanentError
		if !errors.As(err, &pe) || pe.Reason != "invalid_grant" || pe.Message != "Invalid JWT Signature." {
			t.Fatalf("err = %v, want invalid_grant", err)
		}
		if e.fake.TokenRequests() != 1 {
			t.Fatalf("token requests = %d, want 1", e.fake.TokenRequests())
		}
	})

	t.Run("TokenEndpointUnavailable", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.SetUsers(fakegoogle.GenerateUsers(2, 3))
		e.fake.FailToken(http.StatusServiceUnavailable, "temporarily_unavailable", "", 1)
		l, err := e.directory(t, e.serviceAccount(t)).ListUsers(ctx, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Users) != 2 || l.Retries != 1 || e.fake.TokenRequests() != 2 {
			t.Fatalf("%d users, %d retries, %d token requests; want 2, 1, 2", len(l.Users), l.Retries, e.fake.TokenRequests())
		}
	})

	t.Run("CanceledWhileWaiting", func(t *testing.T) {
		e := newFakeEnv(t)
		e.fake.FailPage(1, http.StatusTooManyRequests, "rateLimitExceeded", -1)
		cctx, cancel := context.WithCancel(ctx)
		p := bridge.DefaultRetryPolicy()
		p.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }
		d, err := bridge.NewDirectory(ctx, e.serviceAccount(t), e.ep, nil, nil, nil, bridge.WithRetryPolicy(p))
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ListUsers(cctx, "", false)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if e.fake.Requests() != 1 {
			t.Fatalf("requests = %d, want 1", e.fake.Requests())
		}
	})
}

func clientIDOf(t *testing.T, e *fakeEnv) string     { return refreshField(t, e, "client_id") }
func clientSecretOf(t *testing.T, e *fakeEnv) string { return refreshField(t, e, "client_secret") }
