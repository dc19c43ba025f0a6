package webhook

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// fakeResolver answers names from a table; it never asks a DNS server.
type fakeResolver map[string][]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range r[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

// loopbackOnly is a dial hook that records every address it is asked for
// and connects only to loopback ones: no test traffic leaves the machine.
type loopbackOnly struct {
	mu    sync.Mutex
	asked []string
}

func (l *loopbackOnly) dial(ctx context.Context, network, address string) (net.Conn, error) {
	l.mu.Lock()
	l.asked = append(l.asked, address)
	l.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return nil, errors.New("test dialer: not connecting to a non-loopback address")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func TestGuard_RefusedAddresses(t *testing.T) {
	resolver := fakeResolver{
		"private.test":   {"10.1.2.3"},
		"private6.test":  {"fd12::1"},
		"mapped.test":    {"::ffff:192.168.1.1"},
		"metadata.test":  {"169.254.169.254"},
		"ec2v6.test":     {"fd00:ec2::254"},
		"linklocal.test": {"fe80::1"},
		"loopback.test":  {"127.0.0.1"},
		"cgnat.test":     {"100.64.0.1"},
		"mixed.test":     {"203.0.113.10", "10.0.0.1"},
		"public.test":    {"203.0.113.10"},
	}
	for _, tt := range []struct {
		url, refusal string
	}{
		{"https://private.test/h", "private"},
		{"https://private6.test/h", "private"},
		{"https://mapped.test/h", "192.168.1.1 is a private"},
		{"https://metadata.test/h", "metadata"},
		{"https://ec2v6.test/h", "metadata"},
		{"https://linklocal.test/h", "link-local"},
		{"https://loopback.test/h", "loopback"},
		{"https://cgnat.test/h", "special-purpose"},
		{"https://mixed.test/h", "10.0.0.1 is a private"},
		{"https://[::ffff:10.0.0.1]/h", "10.0.0.1 is a private"},
		{"http://public.test/h", "plain http"},
		{"http://127.0.0.1:9/h", "plain http"}, // loopback, but not allowed
	} {
		t.Run(tt.url, func(t *testing.T) {
			hook := &loopbackOnly{}
			g := &Guard{Resolver: resolver, Dial: hook.dial}
			req, _ := http.NewRequest("POST", tt.url, nil)
			resp, err := g.Client(time.Second).Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.refusal) {
				t.Errorf("err = %v, want a refusal naming %q", err, tt.refusal)
			}
			if len(hook.asked) != 0 {
				t.Errorf("dialed %v for a refused URL", hook.asked)
			}
		})
	}
	t.Run("PublicAddressIsDialed", func(t *testing.T) {
		hook := &loopbackOnly{}
		g := &Guard{Resolver: resolver, Dial: hook.dial}
		req, _ := http.NewRequest("POST", "https://public.test/h", nil)
		_, err := g.Client(time.Second).Do(req)
		if errors.Is(err, ErrRefused) || len(hook.asked) != 1 || hook.asked[0] != "203.0.113.10:443" {
			t.Errorf("err %v, dialed %v; want the checked address dialed", err, hook.asked)
		}
	})
	t.Run("AllowedCIDR", func(t *testing.T) {
		g := &Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		if err := g.CheckAddr(netip.MustParseAddr("10.1.2.3"), false); err != nil {
			t.Errorf("allowed range refused: %v", err)
		}
		if err := g.CheckAddr(netip.MustParseAddr("::ffff:10.1.2.3"), false); err != nil {
			t.Errorf("allowed range (mapped) refused: %v", err)
		}
		if err := g.CheckAddr(netip.MustParseAddr("10.1.2.3"), true); err == nil {
			t.Error("plain http to a non-loopback allowed address accepted")
		}
		if err := g.CheckAddr(netip.MustParseAddr("192.168.0.1"), false); err == nil {
			t.Error("range outside the list accepted")
		}
	})
}

// The real dialer's Control refuses at connect time too.
func TestGuard_ControlRefuses(t *testing.T) {
	g := &Guard{}
	if err := g.control(false)("tcp", "127.0.0.1:443", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("control let loopback through: %v", err)
	}
	if err := g.control(false)("tcp", "[::ffff:169.254.169.254]:80", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("control let metadata through: %v", err)
	}
}

func TestGuard_NoRedirectNoProxy(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1) }))
	defer proxy.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()
	g := &Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	resp, err := g.Client(time.Second).Post(redirect.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || followed.Load() != 0 {
		t.Errorf("status %d, followed %d: a redirect was followed", resp.StatusCode, followed.Load())
	}
	if proxied.Load() != 0 {
		t.Error("the proxy of the environment was used")
	}
}

// A receiver over https whose certificate a CA in webhooks.ca_file signs.
func TestWorker_TLSWithCAFile(t *testing.T) {
	e := sqliteEnv(t)
	var got atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	ep, _ := e.endpoint(srv.URL+"/hook", 1, scimbridge.RejectRetry)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)

	// Without the CA: the certificate is not trusted.
	w := e.worker("a")
	stop := run(t, w)
	waitFor(t, "an untrusted attempt", func() bool { return len(e.attempts(ep)) >= 1 })
	if a := e.attempts(ep)[0]; a.Outcome != scimbridge.AttemptFailed || !strings.Contains(a.Error, "certificate") || got.Load() != 0 {
		t.Errorf("attempt without the CA = %+v", a)
	}
	stop()

	roots, err := LoadRootCAs(caFile)
	if err != nil {
		t.Fatal(err)
	}
	w = e.worker("a")
	w.Guard.RootCAs = roots
	run(t, w)
	waitFor(t, "delivery over https", func() bool {
		a := e.attempts(ep)
		return a[len(a)-1].Outcome == scimbridge.AttemptDelivered
	})
	if got.Load() == 0 {
		t.Error("the receiver got nothing")
	}
}
