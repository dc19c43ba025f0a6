package scimserver

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"NoProxiesIgnoresHeader", "203.0.113.5:4000", []string{"198.51.100.1"}, nil, "203.0.113.5"},
		{"UntrustedPeerIgnoresHeader", "203.0.113.5:4000", []string{"198.51.100.1"}, trusted, "203.0.113.5"},
		{"TrustedPeerUsesRightmost", "10.0.0.2:4000", []string{"198.51.100.1, 198.51.100.2"}, trusted, "198.51.100.2"},
		{"SkipsTrustedEntries", "10.0.0.2:4000", []string{"198.51.100.1, 198.51.100.2, 10.1.1.1"}, trusted, "198.51.100.2"},
		{"SpoofedLeftmostIgnored", "10.0.0.2:4000", []string{"1.2.3.4", "198.51.100.9"}, trusted, "198.51.100.9"},
		{"AllTrustedUsesLeftmost", "10.0.0.2:4000", []string{"10.3.3.3, 10.2.2.2"}, trusted, "10.3.3.3"},
		{"TrustedPeerNoHeader", "10.0.0.2:4000", nil, trusted, "10.0.0.2"},
		{"GarbageEntryStopsAtPeer", "10.0.0.2:4000", []string{"198.51.100.1, not-an-ip"}, trusted, "10.0.0.2"},
		{"EntryWithPort", "10.0.0.2:4000", []string{"198.51.100.7:5555"}, trusted, "198.51.100.7"},
		{"IPv6Peer", "[2001:db8::1]:4000", nil, trusted, "2001:db8::1"},
		{"IPv6TrustedPeer", "[fd00::2]:4000", []string{"2001:db8::9"}, trusted, "2001:db8::9"},
		{"MappedIPv4Peer", "[::ffff:10.0.0.2]:4000", []string{"198.51.100.3"}, trusted, "198.51.100.3"},
		{"UnparseablePeer", "pipe", nil, trusted, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientIP(tt.remote, tt.xff, tt.trusted); got != tt.want {
				t.Errorf("clientIP(%q, %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
