package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/rpc/encryption"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/internal/config"
)

// Every command reaches a TLS-only Temporal frontend with the
// SWITCHBACK_TEMPORAL_TLS_* settings (mutual TLS: the server refuses a
// client without its certificate), and sends SWITCHBACK_TEMPORAL_API_KEY as
// a bearer token over that TLS, as Temporal Cloud expects.
func TestClientOptionsTLS(t *testing.T) {
	pki := newPKI(t)
	seen := &authRecorder{}
	ts := temporaltest.NewServer(
		temporaltest.WithT(t),
		temporaltest.WithBaseServerOptions(
			temporal.WithTLSConfigFactory(pki.provider()),
			temporal.WithChainedFrontendGrpcInterceptors(seen.intercept),
		),
		temporaltest.WithBaseClientOptions(client.Options{ConnectionOptions: client.ConnectionOptions{TLS: pki.clientTLS()}}),
	)
	base := func(vars map[string]string) config.Config {
		t.Helper()
		vars["SWITCHBACK_TEMPORAL_ADDRESS"] = ts.GetFrontendHostPort()
		vars["SWITCHBACK_TEMPORAL_NAMESPACE"] = ts.GetDefaultNamespace()
		cfg, err := config.FromEnv(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	dial := func(cfg config.Config) error {
		opts, err := app.ClientOptions(cfg, nil, nil)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := client.DialContext(ctx, opts)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}

	mtls := map[string]string{
		"SWITCHBACK_TEMPORAL_TLS_CERT":        pki.clientCert,
		"SWITCHBACK_TEMPORAL_TLS_KEY":         pki.clientKey,
		"SWITCHBACK_TEMPORAL_TLS_CA":          pki.caFile,
		"SWITCHBACK_TEMPORAL_TLS_SERVER_NAME": "temporal.test",
		"SWITCHBACK_TEMPORAL_API_KEY":         "cloud-api-key",
	}
	if err := dial(base(mtls)); err != nil {
		t.Fatalf("mutual TLS with an API key: %v", err)
	}
	if !seen.has("Bearer cloud-api-key") {
		t.Errorf("the frontend never saw the API key as a bearer token; saw %v", seen.values())
	}

	noCert := map[string]string{"SWITCHBACK_TEMPORAL_TLS_CA": pki.caFile, "SWITCHBACK_TEMPORAL_TLS_SERVER_NAME": "temporal.test"}
	if err := dial(base(noCert)); err == nil {
		t.Error("a client without a certificate got through mutual TLS")
	}
	if err := dial(base(map[string]string{})); err == nil {
		t.Error("a plain gRPC client got through a TLS-only frontend")
	}

	bad := base(map[string]string{"SWITCHBACK_TEMPORAL_TLS_CA": filepath.Join(t.TempDir(), "missing.pem")})
	if _, err := app.ClientOptions(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "SWITCHBACK_TEMPORAL_TLS_CA") {
		t.Errorf("a missing CA file: %v, want an error naming SWITCHBACK_TEMPORAL_TLS_CA", err)
	}
}

// authRecorder records the authorization headers the frontend receives.
type authRecorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (a *authRecorder) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		a.mu.Lock()
		if a.seen == nil {
			a.seen = map[string]bool{}
		}
		for _, v := range md.Get("authorization") {
			a.seen[v] = true
		}
		a.mu.Unlock()
	}
	return next(ctx, req)
}

func (a *authRecorder) has(v string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[v]
}

func (a *authRecorder) values() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for v := range a.seen {
		scheme, _, _ := strings.Cut(v, " ")
		out = append(out, scheme+" …") // never the key itself
	}
	return out
}

// pki is a test CA with a server certificate for temporal.test and
// 127.0.0.1, and a client certificate, written to files.
type pki struct {
	ca                            *x509.CertPool
	server, client                tls.Certificate
	caFile, clientCert, clientKey string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, caDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "switchback test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.ca.AddCert(caCert)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	srvKey, srvDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "temporal.test"}, DNSNames: []string{"temporal.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliKey, cliDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "switchback worker"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	p.client = tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}
	p.clientCert, p.clientKey = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, p.clientCert, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.clientKey, "EC PRIVATE KEY", keyDER)
	return p
}

// newCert signs tmpl with parent's key (itself when parent is nil).
func newCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// clientTLS is the TLS of the server's own clients and the test's.
func (p *pki) clientTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.client}, RootCAs: p.ca, ServerName: "temporal.test"}
}

// provider makes the frontend TLS-only with mutual TLS; the server's
// internal connections stay plain.
func (p *pki) provider() tlsProvider { return tlsProvider{p} }

type tlsProvider struct{ p *pki }

func (t tlsProvider) GetFrontendServerConfig() (*tls.Config, error) {
	return &tls.Config{Certificates: []tls.Certificate{t.p.server}, ClientCAs: t.p.ca, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}
func (t tlsProvider) GetFrontendClientConfig() (*tls.Config, error) { return t.p.clientTLS(), nil }
func (tlsProvider) GetInternodeServerConfig() (*tls.Config, error)  { return nil, nil }
func (tlsProvider) GetInternodeClientConfig() (*tls.Config, error)  { return nil, nil }
func (tlsProvider) GetRemoteClusterClientConfig(string) (*tls.Config, error) {
	return nil, nil
}
func (tlsProvider) GetExpiringCerts(time.Duration) (encryption.CertExpirationMap, encryption.CertExpirationMap, error) {
	return nil, nil, nil
}
