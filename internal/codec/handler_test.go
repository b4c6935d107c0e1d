package codec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/switchbackhq/switchback/internal/httpauth"
)

const testToken = "s3cret-token"

// serve serves a codec handler under Prefix, as the HTTP server mounts it.
func serve(t *testing.T, opts HandlerOptions) (*Codec, *httptest.Server) {
	t.Helper()
	c := newCodec(t, testKey("k1"))
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", NewHandler(c, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return c, srv
}

// remote is the SDK's remote codec, as `temporal --codec-endpoint` and the
// Web UI call the endpoint, with token as its bearer token.
func remote(srv *httptest.Server, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + Prefix,
		ModifyRequest: func(r *http.Request) error {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		},
	})
}

func TestHandlerRoundTrip(t *testing.T) {
	c, srv := serve(t, HandlerOptions{Token: testToken})
	rc := remote(srv, testToken)
	p := phonePayload(t)
	enc, err := rc.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	if string(enc[0].Metadata[MetadataKeyID]) != "k1" {
		t.Fatalf("encoded through the endpoint: %v", enc[0])
	}
	// What a worker encrypted, the endpoint decrypts, and the other way.
	dec, err := c.Decode(enc)
	if err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("local decode of remote encode = %v, %v", dec, err)
	}
	dec, err = rc.Decode([]*commonpb.Payload{encodeOne(t, c, p)})
	if err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("remote decode of local encode = %v, %v", dec, err)
	}
}

func TestHandlerNeedsToken(t *testing.T) {
	_, srv := serve(t, HandlerOptions{Token: testToken})
	for _, token := range []string{"", "wrong"} {
		if _, err := remote(srv, token).Decode([]*commonpb.Payload{phonePayload(t)}); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("token %q: error = %v, want Unauthorized", token, err)
		}
	}
	// No token configured: nothing is served.
	_, open := serve(t, HandlerOptions{})
	resp, err := http.Post(open.URL+Prefix+"/decode", "application/json", strings.NewReader(`{"payloads":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token configured: status %d, want 401", resp.StatusCode)
	}
}

// Under dev, Exempt is httpauth.Local: a caller on this machine that names
// it needs no token; the same caller through a tunnel's name does.
func TestHandlerExempt(t *testing.T) {
	c, srv := serve(t, HandlerOptions{Exempt: httpauth.Local})
	enc := encodeOne(t, c, phonePayload(t))
	if _, err := remote(srv, "").Decode([]*commonpb.Payload{enc}); err != nil {
		t.Errorf("local caller: %v", err)
	}
	tunnel := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint:      srv.URL + Prefix,
		ModifyRequest: func(r *http.Request) error { r.Host = "abc123.ngrok-free.app"; return nil },
	})
	if _, err := tunnel.Decode([]*commonpb.Payload{enc}); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("caller through a tunnel's name: %v, want Unauthorized", err)
	}
}

func TestHandlerCORS(t *testing.T) {
	_, srv := serve(t, HandlerOptions{Token: testToken, CORSOrigin: "https://ui.example"})
	preflight := func(origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+Prefix+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://ui.example")
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status %d, want 204 (without a token)", resp.StatusCode)
	}
	h := resp.Header
	if h.Get("Access-Control-Allow-Origin") != "https://ui.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight headers %v", h)
	}
	for _, want := range []string{"Authorization", "Content-Type", "X-Namespace"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if got := preflight("https://evil.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("another origin allowed: %q", got)
	}
	// The answer to the request itself carries the header too.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+Prefix+"/decode", strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Origin", "https://ui.example")
	req.Header.Set("Authorization", "Bearer "+testToken)
	post, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusOK || post.Header.Get("Access-Control-Allow-Origin") != "https://ui.example" {
		t.Errorf("POST: status %d, headers %v", post.StatusCode, post.Header)
	}
}
