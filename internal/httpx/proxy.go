package httpx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustProxies makes requests that come through one of the given reverse proxies carry
// the client's address in RemoteAddr, taken from X-Forwarded-For: the rightmost address
// that is not itself a trusted proxy, so that a client cannot forge its way past the
// login throttle or into the audit log under another address. Requests from elsewhere
// are left as they are.
func TrustProxies(prefixes []netip.Prefix) Middleware {
	trusted := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		if len(prefixes) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, port, err := net.SplitHostPort(r.RemoteAddr)
			peer, perr := netip.ParseAddr(host)
			if err == nil && perr == nil && trusted(peer) {
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break
					}
					if !trusted(a) || i == 0 {
						r.RemoteAddr = net.JoinHostPort(a.String(), port)
						break
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
