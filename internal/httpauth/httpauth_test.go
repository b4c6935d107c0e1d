package httpauth_test

import (
	"net/http/httptest"
	"testing"

	"github.com/switchbackhq/switchback/internal/httpauth"
)

func TestLocal(t *testing.T) {
	tests := []struct {
		remote, host string
		want         bool
	}{
		{"127.0.0.1:5000", "127.0.0.1:8080", true},
		{"127.0.0.1:5000", "localhost:8080", true},
		{"[::1]:5000", "[::1]:8080", true},
		{"127.0.0.1:5000", "LOCALHOST.", true},
		{"127.0.0.1:5000", "app.localhost:8080", true},
		// A tunnel or a local reverse proxy: loopback caller, public name.
		{"127.0.0.1:5000", "abc123.ngrok-free.app", false},
		// DNS rebinding: the page's own name, resolved to 127.0.0.1.
		{"127.0.0.1:5000", "attacker.example:8080", false},
		{"127.0.0.1:5000", "localhost.attacker.example", false},
		// A caller on the network that names loopback.
		{"192.0.2.10:5000", "127.0.0.1:8080", false},
		{"192.0.2.10:5000", "localhost:8080", false},
		{"127.0.0.1:5000", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/v1/journeys", nil)
		r.RemoteAddr, r.Host = tt.remote, tt.host
		if got := httpauth.Local(r); got != tt.want {
			t.Errorf("Local(remote %s, Host %q) = %v, want %v", tt.remote, tt.host, got, tt.want)
		}
	}
}

func TestTokenEqual(t *testing.T) {
	tests := []struct {
		got, want string
		ok        bool
	}{
		{"s3cret", "s3cret", true},
		{"s3cre", "s3cret", false},
		{"s3cret ", "s3cret", false},
		{"", "", false},
		{"x", "", false},
	}
	for _, tt := range tests {
		if ok := httpauth.TokenEqual(tt.got, tt.want); ok != tt.ok {
			t.Errorf("TokenEqual(%q, %q) = %v, want %v", tt.got, tt.want, ok, tt.ok)
		}
	}
}

func TestBearer(t *testing.T) {
	tests := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"Basic abc", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", tt.header)
		token, ok := httpauth.Bearer(r)
		if token != tt.token || ok != tt.ok {
			t.Errorf("Bearer(%q) = %q, %v; want %q, %v", tt.header, token, ok, tt.token, tt.ok)
		}
	}
}
