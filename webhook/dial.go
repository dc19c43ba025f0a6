package webhook

// The URL rules, enforced when connecting: every address a name resolves
// to is checked, and the connection goes to a checked address.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge"
)

// Resolver looks up a host's addresses (net.DefaultResolver does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc opens a connection to a literal ip:port.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Guard decides which addresses deliveries may connect to.
type Guard struct {
	// Allowed are the ranges let through though private, loopback,
	// link-local or metadata (webhooks.allowed_cidrs); plain http goes
	// only to loopback addresses among them.
	Allowed []netip.Prefix
	// Resolver and Dial replace the system's, for tests; nil means the
	// system resolver and a net.Dialer whose Control checks the address
	// again at connect time.
	Resolver Resolver
	Dial     DialFunc
	// RootCAs verifies receivers' certificates: the system roots plus
	// webhooks.ca_file; nil means the system roots.
	RootCAs *x509.CertPool
	// DialTimeout bounds one connection; zero means 10 seconds.
	DialTimeout time.Duration
}

// metadataAddrs are cloud metadata services, refused even when a range
// containing them is allowed unless listed exactly.
var metadataAddrs = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}

// refusedRanges are special-purpose ranges a webhook never reaches
// unless allowed: besides what netip classifies (private, loopback,
// link-local, unspecified, multicast), shared address space and "this
// network".
var refusedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// ErrRefused wraps every refusal of an address or URL.
var ErrRefused = errors.New("refused")

// CheckAddr says whether a delivery may connect to addr, over plain http
// when plain is set. An IPv4-mapped IPv6 address is checked as the IPv4
// address it maps.
func (g *Guard) CheckAddr(addr netip.Addr, plain bool) error {
	addr = addr.Unmap().WithZone("")
	allowed := false
	for _, p := range g.Allowed {
		if p.Contains(addr) {
			allowed = true
			break
		}
	}
	if plain {
		if addr.IsLoopback() && allowed {
			return nil
		}
		return fmt.Errorf("%w: plain http only to loopback addresses listed in webhooks.allowed_cidrs, not %s", ErrRefused, addr)
	}
	if allowed {
		return nil
	}
	for _, m := range metadataAddrs {
		if addr == m {
			return fmt.Errorf("%w: %s is a metadata address", ErrRefused, addr)
		}
	}
	switch {
	case !addr.IsValid():
		return fmt.Errorf("%w: invalid address", ErrRefused)
	case addr.IsLoopback():
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, addr)
	case addr.IsPrivate():
		return fmt.Errorf("%w: %s is a private address", ErrRefused, addr)
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", ErrRefused, addr)
	case addr.IsUnspecified(), addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", ErrRefused, addr)
	}
	for _, p := range refusedRanges {
		if p.Contains(addr) {
			return fmt.Errorf("%w: %s is a special-purpose address", ErrRefused, addr)
		}
	}
	return nil
}

// CheckURL checks what can be checked of a URL before connecting: an
// absolute https URL (or http to localhost or a loopback address) with a
// host and no user, password or fragment. The addresses are checked when
// connecting.
func CheckURL(raw string) error {
	if len(raw) > 2048 {
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL does not parse")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL must be https")
	case u.Host == "" || u.Hostname() == "":
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL needs a host")
	case u.User != nil:
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL must not carry a user or password")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL must not have a fragment")
	case strings.ContainsAny(raw, " \t\r\n"):
		return scimbridge.Errorf(scimbridge.EINVALID, "the URL must not contain spaces")
	}
	if p := u.Port(); p != "" {
		if n, err := netip.ParseAddrPort("127.0.0.1:" + p); err != nil || n.Port() == 0 {
			return scimbridge.Errorf(scimbridge.EINVALID, "the URL's port must be a number from 1 to 65535")
		}
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip, err := netip.ParseAddr(host)
		if !strings.EqualFold(host, "localhost") && (err != nil || !ip.Unmap().IsLoopback()) {
			return scimbridge.Errorf(scimbridge.EINVALID, "the URL must be https (plain http only to a loopback address, for development)")
		}
	}
	return nil
}

// dialChecked resolves host, checks every address and connects to the
// first that answers; one refused address refuses the whole name.
func (g *Guard) dialChecked(ctx context.Context, network, hostport string, plain bool) (net.Conn, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no address", host)
		}
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a, plain); err != nil {
			return nil, fmt.Errorf("connect to %s: %w", host, err)
		}
	}
	dial := g.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: g.dialTimeout(), Control: g.control(plain)}
		dial = d.DialContext
	}
	var errs []error
	for _, a := range addrs {
		conn, err := dial(ctx, network, netip.AddrPortFrom(a.Unmap(), portNumber(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control checks the address the socket is about to connect to, whatever
// resolved it.
func (g *Guard) control(plain bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrRefused, address)
		}
		return g.CheckAddr(ap.Addr(), plain)
	}
}

func (g *Guard) dialTimeout() time.Duration {
	if g.DialTimeout > 0 {
		return g.DialTimeout
	}
	return 10 * time.Second
}

func portNumber(p string) uint16 {
	ap, err := netip.ParseAddrPort("0.0.0.0:" + p)
	if err != nil {
		return 0
	}
	return ap.Port()
}

// Client returns the HTTP client deliveries use: no proxy, no redirects,
// plain connections only to allowed loopback addresses, TLS connections
// only to checked addresses, verified against RootCAs.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return g.dialChecked(ctx, network, addr, true)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := g.dialChecked(ctx, network, addr, false)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: g.RootCAs, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			return tc, nil
		},
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// LoadRootCAs returns the system roots with the certificates of caFile
// (PEM) added; caFile "" gives nil (the system roots).
func LoadRootCAs(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read webhooks CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read webhooks CA file %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}
