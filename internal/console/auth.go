package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Who signed in, as the action log names them when no user header does.
const (
	whoToken = "token"
	whoLocal = "local"
)

// CookieName is the name of the console's session cookie.
const CookieName = "switchback_console"

// Session kinds, the last byte of a cookie's payload: only a token
// session proves a login; the others only bind CSRF tokens.
const (
	kindToken byte = 't'
	kindBind  byte = 'b'
)

// session is what a session cookie carries, signed: an id, an expiry and
// its kind. The server keeps nothing.
type session struct {
	id      [16]byte
	expires time.Time
	kind    byte
}

// sessions signs and checks session cookies and CSRF tokens with one key.
type sessions struct {
	key    []byte
	ttl    time.Duration
	secure bool
	now    func() time.Time
}

// sessionKey derives the signing key from the console token, so that
// changing the token ends every session; without a token, a random key
// (sessions then end with the process).
func sessionKey(token string) []byte {
	if token == "" {
		k := make([]byte, 32)
		rand.Read(k)
		return k
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("switchback console session key v1"))
	return m.Sum(nil)
}

func (s *sessions) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// newSession starts a session of kind.
func (s *sessions) newSession(kind byte) session {
	ss := session{expires: s.now().Add(s.ttl).Truncate(time.Second), kind: kind}
	rand.Read(ss.id[:])
	return ss
}

// encode returns the cookie value of ss: payload.signature, base64url.
func (s *sessions) encode(ss session) string {
	payload := make([]byte, 0, 25)
	payload = append(payload, ss.id[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(ss.expires.Unix()))
	payload = append(payload, ss.kind)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.mac([]byte("session:"), payload))
}

var errBadSession = errors.New("no valid session")

// decode checks a cookie value's signature and expiry.
func (s *sessions) decode(v string) (session, error) {
	enc := base64.RawURLEncoding
	p64, sig64, ok := strings.Cut(v, ".")
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(sig64)
	if !ok || err1 != nil || err2 != nil || len(payload) != 25 {
		return session{}, errBadSession
	}
	if !hmac.Equal(sig, s.mac([]byte("session:"), payload)) {
		return session{}, errBadSession
	}
	var ss session
	copy(ss.id[:], payload)
	ss.expires = time.Unix(int64(binary.BigEndian.Uint64(payload[16:24])), 0)
	ss.kind = payload[24]
	if !s.now().Before(ss.expires) {
		return session{}, errBadSession
	}
	return ss, nil
}

// fromRequest returns r's valid session, if any.
func (s *sessions) fromRequest(r *http.Request) (session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return session{}, false
	}
	ss, err := s.decode(c.Value)
	return ss, err == nil
}

// cookie returns the cookie that carries ss: HttpOnly, SameSite=Strict,
// Secure when the console is served over https, expiring with ss.
func (s *sessions) cookie(ss session) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: s.encode(ss), Path: Prefix + "/",
		Expires: ss.expires, MaxAge: int(ss.expires.Sub(s.now()).Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	}
}

// clearCookie returns the cookie that ends a session.
func (s *sessions) clearCookie() *http.Cookie {
	return &http.Cookie{Name: CookieName, Path: Prefix + "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode}
}

// csrf returns the CSRF token of ss: a MAC of its id, so that a form is
// good for the session that rendered it and no other.
func (s *sessions) csrf(ss session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac([]byte("csrf:"), ss.id[:]))
}

// checkCSRF reports whether got is the CSRF token of ss.
func (s *sessions) checkCSRF(ss session, got string) bool {
	want := s.csrf(ss)
	return hmac.Equal([]byte(got), []byte(want))
}
