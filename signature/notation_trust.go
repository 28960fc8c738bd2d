package signature

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corex509 "github.com/notaryproject/notation-core-go/x509"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// DefaultNotationScope is the registry scope a bundle of a layout is
// checked under when Trust.Scope is empty: a trust policy statement of
// scope "*" (or of this scope) applies to it. A layout has no registry
// name; notation verify --oci-layout asks for one with --scope.
const DefaultNotationScope = "localhost/ocibundle"

// certStoreName names the one trust store the --cert short form builds.
const certStoreName = "ocibundle-cert"

// notationReference is the artifact reference notation-go matches trust
// policy statements against: SCOPE@DIGEST.
func notationReference(trust Trust, subject ocispec.Descriptor) string {
	scope := trust.Scope
	if scope == "" {
		scope = DefaultNotationScope
	}
	return scope + "@" + subject.Digest.String()
}

// notationVerifier builds notation-go's verifier from trust: the trust
// policy file and trust store directory in notation's formats, or, for
// CACerts, the policy notation would need for them: one statement of scope
// "*", level strict, any identity, revocation skipped (an air-gapped site
// has no CRL or OCSP to ask), trusting one CA store held in memory. Giving
// both forms is an error. Errors wrap ErrBadTrust and name the option.
func notationVerifier(trust Trust) (notation.Verifier, error) {
	if len(trust.CACerts) > 0 {
		if trust.TrustPolicy != "" || trust.TrustStore != "" {
			return nil, fmt.Errorf("--cert: %w: give --cert or --trust-policy with --trust-store, not both", ErrBadTrust)
		}
		certs, err := readCACerts(trust.CACerts)
		if err != nil {
			return nil, err
		}
		doc := &trustpolicy.Document{Version: "1.0", TrustPolicies: []trustpolicy.TrustPolicy{{
			Name:           certStoreName,
			RegistryScopes: []string{"*"},
			SignatureVerification: trustpolicy.SignatureVerification{
				VerificationLevel: trustpolicy.LevelStrict.Name,
				Override:          map[trustpolicy.ValidationType]trustpolicy.ValidationAction{trustpolicy.TypeRevocation: trustpolicy.ActionSkip},
			},
			TrustStores:       []string{"ca:" + certStoreName},
			TrustedIdentities: []string{"*"},
		}}}
		v, err := verifier.New(doc, memoryStore(certs), nil)
		if err != nil {
			return nil, fmt.Errorf("--cert: %w: %v", ErrBadTrust, err)
		}
		return v, nil
	}
	if trust.TrustPolicy == "" || trust.TrustStore == "" {
		return nil, fmt.Errorf("--trust-policy, --trust-store: %w: give both", ErrBadTrust)
	}
	doc, err := readTrustPolicy(trust.TrustPolicy)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(trust.TrustStore)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--trust-store %s: %w: not a directory", trust.TrustStore, ErrBadTrust)
	}
	v, err := verifier.New(doc, truststore.NewX509TrustStore(storeFS(trust.TrustStore)), nil)
	if err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w: %v", trust.TrustPolicy, ErrBadTrust, err)
	}
	return v, nil
}

// readTrustPolicy reads and validates a trustpolicy.json (notation's OCI
// trust policy document, at most layout.MaxDocumentSize bytes).
func readTrustPolicy(path string) (*trustpolicy.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w: %v", path, ErrBadTrust, err)
	}
	defer f.Close()
	data, err := layout.ReadCapped(f, layout.MaxDocumentSize)
	if err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w: %v", path, ErrBadTrust, err)
	}
	var doc trustpolicy.Document
	if err := layout.DecodeStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w: %v", path, ErrBadTrust, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w: %v", path, ErrBadTrust, err)
	}
	return &doc, nil
}

// readCACerts reads the PEM (or DER) certificates of files, each of which
// must be a CA certificate or self-signed, as notation's trust store
// requires.
func readCACerts(files []string) ([]*x509.Certificate, error) {
	var all []*x509.Certificate
	for _, f := range files {
		certs, err := corex509.ReadCertificateFile(f)
		if err == nil {
			err = truststore.ValidateCertificates(certs)
		}
		if err != nil {
			return nil, fmt.Errorf("--cert %s: %w: %v", f, ErrBadTrust, err)
		}
		all = append(all, certs...)
	}
	return all, nil
}

// memoryStore is the trust store of the --cert short form: its
// certificates are the CA store certStoreName.
type memoryStore []*x509.Certificate

func (m memoryStore) GetCertificates(_ context.Context, t truststore.Type, name string) ([]*x509.Certificate, error) {
	if t != truststore.TypeCA || name != certStoreName {
		return nil, fmt.Errorf("trust store %s:%s: %w", t, name, os.ErrNotExist)
	}
	return m, nil
}

// storeFS lets --trust-store name notation's truststore directory itself
// (the one holding x509/ca/NAME/) or the notation configuration directory
// above it.
func storeFS(root string) dir.SysFS {
	if _, err := os.Stat(filepath.Join(root, "x509")); err == nil {
		return truststoreFS{SysFS: dir.NewSysFS(root)}
	}
	return dir.NewSysFS(root)
}

// truststoreFS is a truststore directory seen as the configuration
// directory notation-go looks for "truststore/x509/…" in.
type truststoreFS struct{ dir.SysFS }

func (t truststoreFS) SysPath(items ...string) (string, error) {
	if len(items) > 0 {
		rest := strings.TrimPrefix(filepath.ToSlash(items[0]), dir.TrustStoreDir)
		items = append([]string{strings.TrimPrefix(rest, "/")}, items[1:]...)
	}
	return t.SysFS.SysPath(items...)
}
