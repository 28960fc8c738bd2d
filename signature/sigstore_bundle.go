package signature

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// Sigstore bundles stored as referrers (cosign sign --new-bundle-format,
// sigstore/cosign specs/BUNDLE_SPEC.md): a manifest whose subject is the
// signed manifest, with a layer of media type
// application/vnd.dev.sigstore.bundle.v0.3+json (or an earlier v0.x).
const (
	mediaTypeBundlePrefix = "application/vnd.dev.sigstore.bundle"
	envelopeSigstore      = "sigstore-bundle"
)

// isSigstoreBundle reports whether mediaType is a Sigstore bundle's.
func isSigstoreBundle(mediaType string) bool {
	return strings.HasPrefix(mediaType, mediaTypeBundlePrefix) && strings.HasSuffix(mediaType, "+json")
}

// checkSigstoreBundles returns one Result per Sigstore bundle layer of the
// referrers of subject src holds. With st, each is verified by sigstore-go
// (verifyBundle); the error is the source's.
func checkSigstoreBundles(ctx context.Context, src Source, subject ocispec.Descriptor, st *sigstoreTrust) ([]Result, error) {
	refs, err := src.Referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, ref := range refs {
		if !profile.IsManifest(ref.MediaType) {
			continue
		}
		data, bad, err := fetchSmall(ctx, src, ref)
		if err != nil {
			return nil, err
		}
		if bad != nil {
			continue // not readable here: verify reports the referrer itself
		}
		m, err := layout.ParseManifest(data)
		if err != nil {
			continue
		}
		for _, l := range m.Layers {
			if !isSigstoreBundle(l.MediaType) {
				continue
			}
			r := Result{Subject: subject.Digest, Signature: ref, Format: FormatSigstore, Envelope: envelopeSigstore, Checked: st != nil}
			blob, bad, err := fetchSmall(ctx, src, l)
			if err != nil {
				return nil, err
			}
			if r.Err = bad; bad == nil {
				r.Signer, r.Err = verifyBundle(blob, subject.Digest, st)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// verifyBundle checks the Sigstore bundle data signs subject (nil st: it is
// read and its signer named, not judged). A bundle with a public key is
// verified with each of st's keys (no timestamps needed: a key does not
// expire); one with a certificate against st's trusted root: the chain to
// its Fulcio CA at the time a Rekor entry or an RFC 3161 timestamp
// observed, the Rekor entry's signed promise or inclusion proof with the
// root's log keys, SCTs when the root names CT logs, and the certificate's
// identity and OIDC issuer. All of it offline. It returns who signed and
// nil, or an error wrapping ErrMalformed, ErrInvalid, ErrUntrusted,
// ErrExpired or ErrIdentity.
func verifyBundle(data []byte, subject digest.Digest, st *sigstoreTrust) (string, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var signer string
	switch {
	case vc.Certificate() != nil:
		signer = certificateSigner(vc.Certificate())
	case vc.PublicKey() != nil:
		signer = "public key " + vc.PublicKey().Hint()
	default:
		return "", fmt.Errorf("%w: neither a certificate nor a public key", ErrMalformed)
	}
	if !signsSubject(sc, subject) {
		return signer, fmt.Errorf("%w: the bundle does not sign %s", ErrInvalid, subject)
	}
	if st == nil {
		return signer, nil
	}
	hexDigest, _ := hex.DecodeString(subject.Encoded())
	artifact := verify.WithArtifactDigest(subject.Algorithm().String(), hexDigest)
	if vc.Certificate() == nil {
		return verifyBundleKey(&b, artifact, st)
	}
	if st.root == nil {
		return signer, fmt.Errorf("%w: a keyless signature needs a trusted root", ErrUntrusted)
	}
	return signer, verifyBundleKeyless(&b, artifact, st)
}

// verifyBundleKey verifies b with each of st's keys in turn.
func verifyBundleKey(b *bundle.Bundle, artifact verify.ArtifactPolicyOption, st *sigstoreTrust) (string, error) {
	if len(st.keys) == 0 {
		return "", fmt.Errorf("%w: a key-pair signature needs a key", ErrUntrusted)
	}
	var last error
	for _, k := range st.keys {
		tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(k.verifier, time.Time{}, time.Time{}), nil
		})
		v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
		if err != nil {
			return "", err
		}
		if _, last = v.Verify(b, verify.NewPolicy(artifact, verify.WithKey())); last == nil {
			return k.name, nil
		}
	}
	return "", fmt.Errorf("%w: no given key verifies it (%v)", ErrUntrusted, last)
}

// verifyBundleKeyless verifies b against st's trusted root and identity.
func verifyBundleKeyless(b *bundle.Bundle, artifact verify.ArtifactPolicyOption, st *sigstoreTrust) error {
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	if len(st.root.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(st.root, opts...)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadTrust, err)
	}
	_, err = v.Verify(b, verify.NewPolicy(artifact, verify.WithCertificateIdentity(st.identity)))
	if err == nil {
		return nil
	}
	var noID *verify.ErrNoMatchingCertificateIdentity
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &noID):
		return fmt.Errorf("%w: %v", ErrIdentity, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired, observedOutside(b):
		return fmt.Errorf("%w: %v", ErrExpired, err)
	}
	return fmt.Errorf("%w: %v", ErrUntrusted, err)
}

// observedOutside reports whether a Rekor entry of b was integrated
// outside the validity of b's certificate: the certificate had expired (or
// was not yet valid) when the log saw the signature.
func observedOutside(b *bundle.Bundle) bool {
	vc, err := b.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		return false
	}
	entries, err := b.TlogEntries()
	if err != nil {
		return false
	}
	cert := vc.Certificate()
	for _, e := range entries {
		if t := e.IntegratedTime(); t.After(cert.NotAfter) || t.Before(cert.NotBefore) {
			return true
		}
	}
	return false
}

// signsSubject reports whether sc, a message signature or a DSSE envelope
// of an in-toto statement, names subject.
func signsSubject(sc verify.SignatureContent, subject digest.Digest) bool {
	if ms := sc.MessageSignatureContent(); ms != nil {
		want, err := hex.DecodeString(subject.Encoded())
		return err == nil && bytes.Equal(ms.Digest(), want)
	}
	env := sc.EnvelopeContent()
	if env == nil {
		return false
	}
	stmt, err := env.Statement()
	if err != nil {
		return false
	}
	for _, s := range stmt.GetSubject() {
		if s.GetDigest()[subject.Algorithm().String()] == subject.Encoded() {
			return true
		}
	}
	return false
}

// certificateSigner names a Fulcio certificate's signer: its subject
// alternative name, and the OIDC issuer when it carries one.
func certificateSigner(cert *x509.Certificate) string {
	var san string
	switch {
	case len(cert.EmailAddresses) > 0:
		san = cert.EmailAddresses[0]
	case len(cert.URIs) > 0:
		san = cert.URIs[0].String()
	default:
		san = cert.Subject.String()
	}
	return san
}
