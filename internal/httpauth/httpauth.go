// Package httpauth holds the two checks that decide who may call
// Switchback's own HTTP endpoints (the /v1 API, the codec): a bearer token
// compared in constant time, and whether a request comes from this machine
// and names it.
package httpauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// TokenEqual reports whether got equals want, in time that depends on
// neither: it compares their SHA-256 digests, so even the length of want
// does not show. An empty want matches nothing.
func TokenEqual(got, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// Bearer returns the token of r's "Authorization: Bearer TOKEN" header
// (the scheme in any case), and whether it has one.
func Bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Local reports whether r comes from a loopback address AND its Host names
// a loopback address or localhost. Both are needed: a tunnel (ngrok,
// cloudflared, ssh -R) or a local reverse proxy connects from loopback but
// carries the public name, and a page that rebinds its own DNS name to
// 127.0.0.1 carries that name.
func Local(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || !loopbackIP(host) {
		return false
	}
	return LoopbackHost(r.Host)
}

// LoopbackHost reports whether hostport (a Host header or a listen
// address, with or without a port) names localhost or a loopback address.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || loopbackIP(host)
}

func loopbackIP(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
