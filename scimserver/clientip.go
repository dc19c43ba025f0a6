package scimserver

import (
	"net"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client that made a request. The TCP
// peer is the client unless it is a trusted proxy; then the client is the
// rightmost X-Forwarded-For entry that is not itself a trusted proxy (every
// entry to its right was appended by a proxy we trust). An unparseable
// entry stops the walk at the peer: nothing left of it can be believed.
func clientIP(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) string {
	peer, ok := parseAddr(remoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			return remoteAddr
		}
		return host
	}
	if !inPrefixes(peer, trusted) {
		return peer.String()
	}
	var entries []string
	for _, h := range forwardedFor {
		entries = append(entries, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		if e == "" {
			continue
		}
		a, ok := parseAddr(e)
		if !ok {
			return peer.String()
		}
		client = a
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return client.String()
}

// parseAddr parses an IP address with or without a port, unmapping
// IPv4-in-IPv6 and dropping any zone.
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func inPrefixes(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the client address of a request as the events log records
// it (see clientIP), for the admin API and console.
func ClientIP(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) string {
	return clientIP(remoteAddr, forwardedFor, trusted)
}
