package codec

import (
	"net/http"

	"go.temporal.io/sdk/converter"

	"github.com/switchbackhq/switchback/internal/httpauth"
)

// Prefix is the path under which the HTTP server serves the codec:
// Prefix+"/encode" and Prefix+"/decode", as the Web UI and
// `temporal --codec-endpoint` call them.
const Prefix = "/codec"

// DefaultCORSOrigin is the Web UI's origin when `switchback dev` runs it.
const DefaultCORSOrigin = "http://127.0.0.1:8233"

// maxBody bounds a request: a batch of payloads of a history page.
const maxBody = 4 << 20

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// Token is the bearer token every request must carry
	// (SWITCHBACK_CODEC_TOKEN). Empty: every request is refused, unless
	// Exempt.
	Token string
	// Exempt, if set, reports the requests served without a token. Only
	// `dev` sets it, to httpauth.Local: the embedded Web UI sends no bearer
	// token of its own.
	Exempt func(*http.Request) bool
	// CORSOrigin is the Web UI's origin, allowed to call the codec from the
	// browser (SWITCHBACK_CODEC_CORS_ORIGIN). Empty: DefaultCORSOrigin.
	CORSOrigin string
}

// NewHandler serves c under Prefix: POST Prefix+"/encode" and
// Prefix+"/decode" take and return {"payloads": [...]} as the SDK's remote
// codec does. It answers CORS preflights for the Web UI's origin and 401
// to a request without the bearer token.
func NewHandler(c converter.PayloadCodec, opts HandlerOptions) http.Handler {
	origin := opts.CORSOrigin
	if origin == "" {
		origin = DefaultCORSOrigin
	}
	codec := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == origin {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !authorized(r, opts) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchback codec"`)
			http.Error(w, "codec: missing or wrong bearer token (SWITCHBACK_CODEC_TOKEN)", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		codec.ServeHTTP(w, r)
	})
}

// authorized reports whether r is exempt or carries "Authorization: Bearer
// token".
func authorized(r *http.Request, opts HandlerOptions) bool {
	if opts.Exempt != nil && opts.Exempt(r) {
		return true
	}
	got, ok := httpauth.Bearer(r)
	return ok && httpauth.TokenEqual(got, opts.Token)
}
