package webhook

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// FuzzCheckURL: an accepted URL is https (or http to a loopback host),
// has a host and no user; nothing panics.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/x", "http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9/h",
		"http://example.com/", "ftp://x/", "https://user:pw@x/", "https://x/#f", "https://", "https://[::ffff:10.0.0.1]/",
		"https://x:0/", "https://x:99999/", "https://x y/", "\x00", "https://%zz/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw)
		if err != nil {
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Fatalf("CheckURL(%q) = %v, not EINVALID", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Hostname() == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("CheckURL accepted %q", raw)
		}
		if u.Scheme == "http" {
			ip, err := netip.ParseAddr(u.Hostname())
			if !strings.EqualFold(u.Hostname(), "localhost") && (err != nil || !ip.Unmap().IsLoopback()) {
				t.Fatalf("CheckURL accepted plain http to %q", u.Hostname())
			}
		}
	})
}

// FuzzCheckAddr: without an allowed list, nothing private, loopback,
// link-local or IPv4-mapped private passes.
func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "::ffff:10.0.0.1", "169.254.169.254", "fd00:ec2::254", "8.8.8.8", "::1", "fe80::1%eth0"} {
		f.Add(s)
	}
	g := &Guard{}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		if g.CheckAddr(a, false) == nil {
			u := a.Unmap()
			if u.IsPrivate() || u.IsLoopback() || u.IsLinkLocalUnicast() || u.IsUnspecified() || u.IsMulticast() {
				t.Fatalf("%s passed", s)
			}
		}
		if g.CheckAddr(a, true) == nil {
			t.Fatalf("plain http to %s passed with no allowed list", s)
		}
	})
}

// FuzzParsers: positions, Retry-After and secrets never panic, and a
// parsed position prints back to what parses to it.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"1.2", "0.0", "-1.2", "1.", ".1", "99999999999999999999.1", "120", "Wed, 21 Oct 2015 07:28:00 GMT",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", ""} {
		f.Add(s)
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePosition(s); err == nil {
			if q, err := ParsePosition(Position(p)); err != nil || q != p {
				t.Fatalf("position %q does not round-trip", s)
			}
		}
		if d := parseRetryAfter(s, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("Retry-After %q = %s", s, d)
		}
		if k, err := SecretKey(s); err == nil && (len(k) < 24 || len(k) > 64) {
			t.Fatalf("secret %q gave a %d-byte key", s, len(k))
		}
	})
}
