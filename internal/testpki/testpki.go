// Package testpki makes the keys and certificates the signature tests sign
// with: a CA, and signing certificates it issues that meet the Notary
// Project's certificate requirements (signature-specification.md
// "Certificate Requirements": key usage digitalSignature, extended key
// usage codeSigning). Test support only.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/youmark/pkcs8"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Leaf is a signing certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	CA   *CA
}

var serial int64 = 1

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewCA makes a self-signed root CA valid from a year ago for ten years.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ocibundle test"}},
		NotBefore:             time.Now().AddDate(-1, 0, 0),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return &CA{Cert: create(t, tmpl, tmpl, &k.PublicKey, k), Key: k}
}

// Issue makes a signing certificate for name valid from notBefore to
// notAfter.
func (ca *CA) Issue(t testing.TB, name string, notBefore, notAfter time.Time) *Leaf {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ocibundle test"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	return &Leaf{Cert: create(t, tmpl, ca.Cert, &k.PublicKey, ca.Key), Key: k, CA: ca}
}

// Valid makes a signing certificate valid from a day ago for a year.
func (ca *CA) Valid(t testing.TB, name string) *Leaf {
	return ca.Issue(t, name, time.Now().Add(-24*time.Hour), time.Now().AddDate(1, 0, 0))
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func write(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteCA writes the CA certificate as PEM into dir/name and returns the
// path.
func (ca *CA) WriteCA(t testing.TB, dir, name string) string {
	return write(t, filepath.Join(dir, name), pemOf("CERTIFICATE", ca.Cert.Raw))
}

// WriteChain writes the chain (signing certificate, then the CA) as PEM
// into dir/name and returns the path.
func (l *Leaf) WriteChain(t testing.TB, dir, name string) string {
	return write(t, filepath.Join(dir, name), append(pemOf("CERTIFICATE", l.Cert.Raw), pemOf("CERTIFICATE", l.CA.Cert.Raw)...))
}

// WriteKey writes the key as PKCS#8 PEM into dir/name, encrypted (PBES2,
// AES-256-CBC) with passphrase when it is not empty, and returns the path.
func (l *Leaf) WriteKey(t testing.TB, dir, name, passphrase string) string {
	t.Helper()
	if passphrase == "" {
		der, err := x509.MarshalPKCS8PrivateKey(l.Key)
		if err != nil {
			t.Fatal(err)
		}
		return write(t, filepath.Join(dir, name), pemOf("PRIVATE KEY", der))
	}
	der, err := pkcs8.MarshalPrivateKey(l.Key, []byte(passphrase), nil)
	if err != nil {
		t.Fatal(err)
	}
	return write(t, filepath.Join(dir, name), pemOf("ENCRYPTED PRIVATE KEY", der))
}

// Chain is the signing certificate, then its CA.
func (l *Leaf) Chain() []*x509.Certificate { return []*x509.Certificate{l.Cert, l.CA.Cert} }
