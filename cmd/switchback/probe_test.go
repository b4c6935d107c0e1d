package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok\n"))
		case "/readyz":
			http.Error(w, "temporal: unavailable\nmore detail", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	// An address that refuses connections: a listener closed at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"2xx", []string{"probe", srv.URL + "/healthz"}, 0, nil},
		{"5xx", []string{"probe", srv.URL + "/readyz"}, 1, []string{"503", "temporal: unavailable"}},
		{"404", []string{"probe", srv.URL + "/nope"}, 1, []string{"404"}},
		{"refused", []string{"probe", "--timeout", "2s", closed}, 1, []string{"switchback probe:"}},
		{"no URL", []string{"probe"}, 2, []string{"give one URL"}},
		{"not a URL", []string{"probe", "127.0.0.1:9464/healthz"}, 2, []string{"absolute http"}},
		{"bad timeout", []string{"probe", "--timeout", "0s", srv.URL}, 2, []string{"--timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, nil, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if tt.wantCode == 0 && stderr != "" {
				t.Errorf("stderr on success: %q", stderr)
			}
		})
	}
}
