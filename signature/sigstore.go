package signature

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"

	"github.com/ocibundle/ocibundle/layout"
)

// Sigstore signatures (cosign) come in two storage forms, both checked
// here: the tag form (cosign.go: a manifest tagged "sha256-<hex>.sig" whose
// layers are simple-signing payloads, signed with a key) and Sigstore
// bundles stored as referrers (sigstore_bundle.go, verified with
// sigstore-go: a key, or keyless with a certificate and Rekor entries
// checked offline against a trusted root).

func init() { formats = append(formats, sigstoreFormat{}) }

type sigstoreFormat struct{}

func (sigstoreFormat) name() string { return FormatSigstore }

// check returns the Results of the tag-form signatures, then of the bundle
// referrers, of subject.
func (sigstoreFormat) check(ctx context.Context, src Source, subject ocispec.Descriptor, trust Trust) ([]Result, error) {
	var st *sigstoreTrust
	if trust.Sigstore() {
		var err error
		if st, err = loadSigstoreTrust(trust); err != nil {
			return nil, err
		}
	}
	tagged, err := checkCosignTag(ctx, src, subject, st)
	if err != nil {
		return nil, err
	}
	bundles, err := checkSigstoreBundles(ctx, src, subject, st)
	if err != nil {
		return nil, err
	}
	return append(tagged, bundles...), nil
}

// sigstoreTrust is Trust's Sigstore half, loaded.
type sigstoreTrust struct {
	keys     []trustedKey
	root     *root.TrustedRoot // nil: keyless signatures are not trusted
	identity verify.CertificateIdentity
}

// trustedKey is one --key: its verifier and how results name it.
type trustedKey struct {
	verifier sigsig.Verifier
	name     string // "cosign.pub (sha256:0123456789abcdef)"
}

// loadSigstoreTrust reads the key files and the trusted root of t. Every
// error wraps ErrBadTrust and names the file or option.
func loadSigstoreTrust(t Trust) (*sigstoreTrust, error) {
	st := &sigstoreTrust{}
	for _, path := range t.Keys {
		k, err := loadKey(path)
		if err != nil {
			return nil, err
		}
		st.keys = append(st.keys, k)
	}
	if t.TrustedRoot == "" {
		if t.CertificateIdentity != "" || t.CertOIDCIssuer != "" {
			return nil, fmt.Errorf("%w: a certificate identity or OIDC issuer needs a trusted root", ErrBadTrust)
		}
		return st, nil
	}
	if t.CertificateIdentity == "" || t.CertOIDCIssuer == "" {
		return nil, fmt.Errorf("%s: %w: a trusted root needs a certificate identity and an OIDC issuer", t.TrustedRoot, ErrBadTrust)
	}
	tr, err := root.NewTrustedRootFromPath(t.TrustedRoot)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", t.TrustedRoot, ErrBadTrust, err)
	}
	id, err := verify.NewShortCertificateIdentity(t.CertOIDCIssuer, "", t.CertificateIdentity, "")
	if err != nil {
		return nil, fmt.Errorf("%w: certificate identity: %v", ErrBadTrust, err)
	}
	st.root, st.identity = tr, id
	return st, nil
}

// loadKey reads a PEM public key (cosign.pub: ECDSA, RSA or Ed25519).
func loadKey(path string) (trustedKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return trustedKey{}, fmt.Errorf("%s: %w: %v", path, ErrBadTrust, err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return trustedKey{}, fmt.Errorf("%s: %w: not a PEM public key", path, ErrBadTrust)
	}
	v, err := sigsig.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return trustedKey{}, fmt.Errorf("%s: %w: %v", path, ErrBadTrust, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return trustedKey{}, fmt.Errorf("%s: %w: %v", path, ErrBadTrust, err)
	}
	sum := sha256.Sum256(der)
	return trustedKey{verifier: v, name: fmt.Sprintf("%s (sha256:%x)", filepath.Base(path), sum[:8])}, nil
}

// fetchSmall fetches a signature blob of at most MaxBlobBytes. A blob that
// is missing, does not match its descriptor or is too large makes the
// signature malformed (bad is set); any other error is the source's.
func fetchSmall(ctx context.Context, src Source, desc ocispec.Descriptor) (data []byte, bad, err error) {
	data, err = src.Fetch(ctx, desc, MaxBlobBytes)
	if err == nil {
		return data, nil, nil
	}
	for _, s := range []error{layout.ErrBlobNotFound, layout.ErrDigestMismatch, layout.ErrSizeMismatch, layout.ErrTooLarge, layout.ErrBadDigest} {
		if errors.Is(err, s) {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err), nil
		}
	}
	return nil, nil, err
}
