package push

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Magic device tokens of the lookalike: a token starting with one gets its
// answer. Any other token is accepted.
const (
	// TokenUnregistered gets 404 UNREGISTERED: the token is retired.
	TokenUnregistered = "sandbox-unregistered"
	// TokenInvalid gets 400 INVALID_ARGUMENT on message.token: retired.
	TokenInvalid = "sandbox-invalid"
	// TokenMismatch gets 403 SENDER_ID_MISMATCH: retired.
	TokenMismatch = "sandbox-mismatch"
	// TokenRejected gets 400 INVALID_ARGUMENT on message.data: the
	// message is refused, the token kept.
	TokenRejected = "sandbox-rejected"
	// TokenAuth gets 401 THIRD_PARTY_AUTH_ERROR: a configuration error.
	TokenAuth = "sandbox-auth"
	// TokenQuota gets 429 QUOTA_EXCEEDED with Retry-After: 2.
	TokenQuota = "sandbox-quota"
	// TokenUnavailable gets 503 UNAVAILABLE with Retry-After: 1.
	TokenUnavailable = "sandbox-unavailable"
	// TokenInternal gets 500 INTERNAL.
	TokenInternal = "sandbox-internal"
	// TokenHang gets no answer: the connection closes once the request
	// is read, so the outcome is unknown.
	TokenHang = "sandbox-hang"
)

// jwtBearer is the grant type of a service account's token request.
const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Lookalike answers as FCM HTTP v1 does, on loopback: POST
// /v1/projects/{project}/messages:send with the magic tokens above, and
// POST /token, a service account's token endpoint (the JWT-bearer grant),
// so that a key file whose token_uri points here runs the real OAuth
// path. Sends need a bearer token it issued, or SandboxBearer.
type Lookalike struct {
	mux  *http.ServeMux
	sent atomic.Int64
	// Tokens counts the access tokens issued.
	Tokens atomic.Int64

	mu     sync.Mutex
	issued map[string]bool
}

// NewLookalike returns a lookalike that has sent nothing.
func NewLookalike() *Lookalike {
	l := &Lookalike{mux: http.NewServeMux(), issued: map[string]bool{}}
	l.mux.HandleFunc("POST /v1/projects/{project}/messages:send", l.send)
	l.mux.HandleFunc("POST /token", l.token)
	return l
}

// ServeHTTP serves the lookalike.
func (l *Lookalike) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.mux.ServeHTTP(w, r) }

// fcmAnswer is a magic token's error answer.
type fcmAnswer struct {
	status     int
	code       string // the FcmError code
	field      string // a BadRequest field violation, or ""
	retryAfter string
}

var magic = []struct {
	prefix string
	answer fcmAnswer
}{
	{TokenUnregistered, fcmAnswer{status: http.StatusNotFound, code: CodeUnregistered}},
	{TokenInvalid, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message.token"}},
	{TokenMismatch, fcmAnswer{status: http.StatusForbidden, code: "SENDER_ID_MISMATCH"}},
	{TokenRejected, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message.data"}},
	{TokenAuth, fcmAnswer{status: http.StatusUnauthorized, code: "THIRD_PARTY_AUTH_ERROR"}},
	{TokenQuota, fcmAnswer{status: http.StatusTooManyRequests, code: "QUOTA_EXCEEDED", retryAfter: "2"}},
	{TokenUnavailable, fcmAnswer{status: http.StatusServiceUnavailable, code: "UNAVAILABLE", retryAfter: "1"}},
	{TokenInternal, fcmAnswer{status: http.StatusInternalServerError, code: "INTERNAL"}},
}

func (l *Lookalike) send(w http.ResponseWriter, r *http.Request) {
	if !l.authorized(r.Header.Get("Authorization")) {
		writeError(w, fcmAnswer{status: http.StatusUnauthorized}, "Request had invalid authentication credentials.")
		return
	}
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAnswer)).Decode(&req); err != nil {
		writeError(w, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message"}, "Invalid JSON payload received.")
		return
	}
	m := req.Message
	p := Payload{Title: m.Notification.Title, Body: m.Notification.Body, Data: m.Data}
	switch {
	case m.Token == "":
		writeError(w, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message.token"}, "The registration token is not a valid FCM registration token")
		return
	case p.size() > MaxPayload:
		writeError(w, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message"}, "Message is too big")
		return
	}
	for k := range m.Data {
		if checkKey(k) != "" {
			writeError(w, fcmAnswer{status: http.StatusBadRequest, code: "INVALID_ARGUMENT", field: "message.data"}, "Invalid data payload key: "+k)
			return
		}
	}
	if strings.HasPrefix(m.Token, TokenHang) {
		panic(http.ErrAbortHandler) // the connection closes without an answer
	}
	for _, mt := range magic {
		if strings.HasPrefix(m.Token, mt.prefix) {
			writeError(w, mt.answer, "sandbox: "+strings.ToLower(strings.ReplaceAll(mt.answer.code, "_", " ")))
			return
		}
	}
	n := l.sent.Add(1)
	writeJSON(w, http.StatusOK, map[string]string{"name": "projects/" + r.PathValue("project") + "/messages/" + strconv.FormatInt(n, 10)})
}

// authorized reports whether an Authorization header carries a bearer
// token the lookalike takes.
func (l *Lookalike) authorized(h string) bool {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	if tok == SandboxBearer {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.issued[tok]
}

// token is a service account's token endpoint: it takes a JWT-bearer
// grant whose assertion asks for Scope, without checking its signature
// (which a test can, in front of it), and issues an access token.
func (l *Lookalike) token(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("grant_type") != jwtBearer {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	claims, err := jwtClaims(r.PostFormValue("assertion"))
	if err != nil || claims.Iss == "" || !strings.Contains(" "+claims.Scope+" ", " "+Scope+" ") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "want a signed JWT from a service account, with scope " + Scope})
		return
	}
	tok := "sandbox-oauth-" + strconv.FormatInt(l.Tokens.Add(1), 10)
	l.mu.Lock()
	l.issued[tok] = true
	l.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// Claims are the claims of a service account's JWT that the lookalike
// reads.
type Claims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
}

// jwtClaims decodes a JWT's claims, without checking its signature.
func jwtClaims(assertion string) (Claims, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return Claims{}, fmt.Errorf("a JWT has 3 parts, not %d", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, fmt.Errorf("JWT claims: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(b, &c); err != nil {
		return Claims{}, fmt.Errorf("JWT claims: %w", err)
	}
	return c, nil
}

// writeError writes FCM's error answer.
func writeError(w http.ResponseWriter, a fcmAnswer, msg string) {
	status := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
		429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[a.status]
	var details []map[string]any
	if a.code != "" {
		details = append(details, map[string]any{"@type": typeFcmError, "errorCode": a.code})
	}
	if a.field != "" {
		details = append(details, map[string]any{"@type": typeBadRequest,
			"fieldViolations": []map[string]string{{"field": a.field, "description": msg}}})
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	writeJSON(w, a.status, map[string]any{"error": map[string]any{"code": a.status, "message": msg, "status": status, "details": details}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
