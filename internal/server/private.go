package server

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"
)

// PrivatePolicy applies the private-address rule to a server listening on
// addr: webhook endpoints at loopback, private and link-local addresses are
// refused unless the server listens on loopback addresses alone (a laptop,
// where "listen --forward-to localhost" must work), and allow, when set,
// overrides that either way. What such a destination answers is kept in the
// attempt log only on a loopback-only server, where the developer owns both
// ends (hide).
func PrivatePolicy(addr string, allow *bool) (refuse, hide bool) {
	loopback := LoopbackOnly(addr)
	refuse = !loopback
	if allow != nil {
		refuse = !*allow
	}
	return refuse, !loopback
}

// LoopbackOnly reports whether a listen address ("host:port") listens on
// loopback addresses alone: 127.0.0.0/8, ::1 or a name that resolves only
// to them, such as localhost. An empty host or an unspecified address
// (":8080", "0.0.0.0:8080", "[::]:8080") listens on every interface.
func LoopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().IsLoopback()
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false
		}
	}
	return true
}
