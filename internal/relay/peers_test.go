package relay

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

func udp(s string) net.Addr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func TestMediaRoutes(t *testing.T) {
	local := []net.Addr{udp("10.0.0.5:7882"), udp("172.17.0.1:7882"), udp("[2001:db8::5]:7882")}
	for _, tc := range []struct {
		name   string
		public []string
		want   []string // announced > local
	}{
		{name: "no NAT: the media server's own addresses", want: []string{
			"10.0.0.5:7882>10.0.0.5:7882", "172.17.0.1:7882>172.17.0.1:7882", "[2001:db8::5]:7882>[2001:db8::5]:7882"}},
		{name: "1:1 NAT: the public address, reached at the first local one of its family",
			public: []string{"203.0.113.9"}, want: []string{"203.0.113.9:7882>10.0.0.5:7882"}},
		{name: "two public addresses, one of each family",
			public: []string{"203.0.113.9", "2001:db8:1::9"},
			want:   []string{"203.0.113.9:7882>10.0.0.5:7882", "[2001:db8:1::9]:7882>[2001:db8::5]:7882"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range MediaRoutes(local, tc.public) {
				got = append(got, r.Announced.String()+">"+r.Local.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("routes %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPickAddress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		local  []string
		public []string
		want   string
	}{
		{name: "the public address behind a NAT", local: []string{"10.0.0.5:7882"}, public: []string{"203.0.113.9", "203.0.113.10"}, want: "203.0.113.9"},
		{name: "a public interface before a private one", local: []string{"172.17.0.1:7882", "198.51.100.7:7882"}, want: "198.51.100.7"},
		{name: "IPv4 before IPv6", local: []string{"[2001:db8::5]:7882", "10.0.0.5:7882"}, want: "10.0.0.5"},
		{name: "loopback only (tests)", local: []string{"127.0.0.1:7882"}, want: "127.0.0.1"},
		{name: "link-local is never reachable", local: []string{"[fe80::1]:7882", "10.0.0.5:7882"}, want: "10.0.0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var local []net.Addr
			for _, l := range tc.local {
				local = append(local, udp(l))
			}
			got, err := PickAddress(local, tc.public)
			if err != nil || got.String() != tc.want {
				t.Fatalf("PickAddress = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
	if _, err := PickAddress(nil, nil); err == nil {
		t.Fatal("an address was picked from none")
	}
}

// The permission check lets a client reach the media server's announced addresses and
// nothing else: not the agency's network, not the server's loopback, not the internet.
func TestPeerFilter(t *testing.T) {
	p := peers{
		{Announced: netip.MustParseAddrPort("203.0.113.9:7882"), Local: netip.MustParseAddrPort("10.0.0.5:7882")},
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"203.0.113.9", true},
		{"::ffff:203.0.113.9", true},
		{"10.0.0.5", false}, // the local address is the relay's business, not the client's
		{"10.0.0.1", false},
		{"192.168.1.1", false},
		{"172.16.0.10", false},
		{"127.0.0.1", false},
		{"169.254.169.254", false},
		{"::1", false},
		{"198.51.100.1", false},
		{"203.0.113.10", false},
	} {
		if got := p.permit(nil, net.ParseIP(tc.ip)); got != tc.want {
			t.Errorf("permit(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}
