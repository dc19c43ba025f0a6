package scimserver

import (
	"testing"
	"time"
)

func TestTokenLimiter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("BurstThenRefused", func(t *testing.T) {
		l := newTokenLimiter(2, 3)
		for i := range 3 {
			if ok, _ := l.allow("org", now); !ok {
				t.Fatalf("request %d refused within burst", i)
			}
		}
		ok, wait := l.allow("org", now)
		if ok || wait <= 0 || wait > time.Second {
			t.Fatalf("allow after burst = %v, %v; want refused with a wait of at most 1s", ok, wait)
		}
		if ok, _ := l.allow("other", now); !ok {
			t.Fatal("another token shares the bucket")
		}
		if ok, _ := l.allow("org", now.Add(600*time.Millisecond)); !ok {
			t.Fatal("bucket did not refill")
		}
	})
	t.Run("ZeroDisables", func(t *testing.T) {
		l := newTokenLimiter(0, 0)
		for range 1000 {
			if ok, _ := l.allow("org", now); !ok {
				t.Fatal("disabled limiter refused")
			}
		}
	})
	t.Run("Reload", func(t *testing.T) {
		l := newTokenLimiter(1, 1)
		l.allow("org", now)
		if ok, _ := l.allow("org", now); ok {
			t.Fatal("second request allowed at 1/s burst 1")
		}
		l.set(0, 0)
		if ok, _ := l.allow("org", now); !ok {
			t.Fatal("refused after disabling")
		}
	})
}

func TestFailureLimiter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("BlocksAfterLimit", func(t *testing.T) {
		f := newFailureLimiter(3)
		for range 3 {
			if b, _ := f.blocked("1.2.3.4", now); b {
				t.Fatal("blocked before the limit")
			}
			f.fail("1.2.3.4", now)
		}
		b, wait := f.blocked("1.2.3.4", now.Add(10*time.Second))
		if !b || wait != 50*time.Second {
			t.Fatalf("blocked = %v, %v; want true, 50s", b, wait)
		}
		if b, _ := f.blocked("5.6.7.8", now); b {
			t.Fatal("another IP is blocked")
		}
		if b, _ := f.blocked("1.2.3.4", now.Add(time.Minute)); b {
			t.Fatal("still blocked after the window")
		}
	})
	t.Run("ZeroDisables", func(t *testing.T) {
		f := newFailureLimiter(0)
		for range 100 {
			f.fail("1.2.3.4", now)
		}
		if b, _ := f.blocked("1.2.3.4", now); b {
			t.Fatal("disabled limiter blocked")
		}
	})
}
