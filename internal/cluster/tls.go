package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ServerName is the name on the Temporal frontend's certificate, which
// every client of the cluster verifies.
const ServerName = "temporal.cluster.test"

// certs are the PEM files of the cluster's mutual TLS: a CA of its own,
// the Temporal frontend's certificate, and the client certificate that
// every Switchback process, Temporal's system worker and the test present.
type certs struct {
	CA                    string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// writeCerts makes a CA and the two certificates it signs, valid for a
// day, and writes them to dir.
func writeCerts(dir string) (certs, error) {
	c := certs{
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "frontend.pem"), ServerKey: filepath.Join(dir, "frontend-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
	}
	now := time.Now()
	ca := &x509.Certificate{
		Subject: pkix.Name{CommonName: "switchback cluster test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caKey, err := issue(ca, ca, nil, c.CA, "")
	if err != nil {
		return certs{}, err
	}
	server := &x509.Certificate{
		Subject: pkix.Name{CommonName: ServerName}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		DNSNames: []string{ServerName}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if _, err := issue(server, ca, caKey, c.ServerCert, c.ServerKey); err != nil {
		return certs{}, err
	}
	cl := &x509.Certificate{
		Subject: pkix.Name{CommonName: "switchback"}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, err := issue(cl, ca, caKey, c.ClientCert, c.ClientKey); err != nil {
		return certs{}, err
	}
	return c, nil
}

// issue signs tmpl with parent's key (its own new key when parentKey is
// nil: a self-signed CA), writes the certificate to certFile and, when
// keyFile is set, its key, and returns the key.
func issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, certFile, keyFile string) (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: key: %w", err)
	}
	if parentKey == nil {
		parentKey = key
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("tls: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("tls: certificate %s: %w", tmpl.Subject.CommonName, err)
	}
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	if keyFile != "" {
		b, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("tls: key of %s: %w", tmpl.Subject.CommonName, err)
		}
		if err := writePEM(keyFile, "EC PRIVATE KEY", b); err != nil {
			return nil, err
		}
	}
	return key, nil
}

func writePEM(path, kind string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return nil
}
