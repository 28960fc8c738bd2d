package signature

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ocibundle/ocibundle/internal/sigstoretest"
)

const mediaTypeBundleV03 = sigstoretest.MediaTypeBundle

// putBundle stores the Sigstore bundle data as a referrer of tl's subject,
// the way cosign stores one: an empty config, one bundle layer.
func (tl *testLayout) putBundle(t *testing.T, data []byte) ocispec.Descriptor {
	t.Helper()
	layer := tl.put(t, mediaTypeBundleV03, data)
	subject := tl.subject
	return tl.putManifest(t, ocispec.Manifest{ArtifactType: mediaTypeBundleV03, Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}, Subject: &subject}, "")
}

// keyBundle signs sigstoretest.Statement(signed) with a new key pair through
// sigstore-go's signing API (no certificate, no Rekor: key-pair, offline)
// and returns the bundle and the public key's file.
func keyBundle(t *testing.T, signed digest.Digest) ([]byte, string) {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: sigstoretest.Statement(signed), PayloadType: "application/vnd.in-toto+json"}, kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.GetPublicKeyPem()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(path, []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, path
}

// TestSigstoreBundleKey: a Sigstore bundle referrer signed with a key pair
// verifies with the key offline (no timestamps), is untrusted with another
// key, and one signing another digest is invalid.
func TestSigstoreBundleKey(t *testing.T) {
	tl := newTestLayout(t)
	data, pub := keyBundle(t, tl.subject.Digest)
	sig := tl.putBundle(t, data)
	_, other := keyBundle(t, tl.subject.Digest)

	r := one(t, tl.check(t, Trust{Keys: []string{pub}}))
	if !r.Checked || r.Err != nil || r.Envelope != envelopeSigstore || r.Signature.Digest != sig.Digest || !strings.HasPrefix(r.Signer, "cosign.pub") {
		t.Fatalf("with the key: %+v", r)
	}
	r = one(t, tl.check(t, Trust{Keys: []string{other}}))
	if !errors.Is(r.Err, ErrUntrusted) {
		t.Fatalf("with another key: %+v", r)
	}
	r = one(t, tl.check(t, Trust{}))
	if r.Checked || r.Err != nil {
		t.Fatalf("without trust: %+v", r)
	}

	tl2 := newTestLayout(t)
	data2, pub2 := keyBundle(t, digest.FromString("another manifest"))
	tl2.putBundle(t, data2)
	if r = one(t, tl2.check(t, Trust{Keys: []string{pub2}})); !errors.Is(r.Err, ErrInvalid) {
		t.Fatalf("bundle of another digest: %+v", r)
	}
}

// virtualBundle is sigstoretest.KeylessBundle, failing the test on error.
func virtualBundle(t *testing.T, vs *ca.VirtualSigstore, identity, issuer string, signed digest.Digest, integrated time.Time) []byte {
	t.Helper()
	data, err := sigstoretest.KeylessBundle(vs, identity, issuer, signed, integrated)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// virtualRoot writes vs's trusted root (sigstoretest.TrustedRoot) as
// trusted_root.json.
func virtualRoot(t *testing.T, vs *ca.VirtualSigstore) string {
	t.Helper()
	data, err := sigstoretest.TrustedRoot(vs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSigstoreBundleKeyless: a keyless bundle (Fulcio certificate, Rekor
// entry with inclusion proof, RFC 3161 timestamp) verifies offline against
// the trusted root carried beside it with the right identity and issuer;
// another identity is ErrIdentity, another issuer too, another Sigstore's
// root is ErrUntrusted, a Rekor entry integrated after the certificate
// expired is ErrExpired.
func TestSigstoreBundleKeyless(t *testing.T) {
	const id, issuer = "sender@example.com", "https://issuer.example.com"
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rootFile := virtualRoot(t, vs)
	tl := newTestLayout(t)
	sig := tl.putBundle(t, virtualBundle(t, vs, id, issuer, tl.subject.Digest, time.Now().Add(5*time.Minute)))

	trust := Trust{TrustedRoot: rootFile, CertificateIdentity: id, CertOIDCIssuer: issuer}
	r := one(t, tl.check(t, trust))
	if !r.Checked || r.Err != nil || r.Signer != id || r.Signature.Digest != sig.Digest {
		t.Fatalf("keyless: %+v", r)
	}
	wrongID := trust
	wrongID.CertificateIdentity = "someone@example.com"
	if r = one(t, tl.check(t, wrongID)); !errors.Is(r.Err, ErrIdentity) {
		t.Fatalf("wrong identity: %+v", r)
	}
	wrongIssuer := trust
	wrongIssuer.CertOIDCIssuer = "https://other.example.com"
	if r = one(t, tl.check(t, wrongIssuer)); !errors.Is(r.Err, ErrIdentity) {
		t.Fatalf("wrong issuer: %+v", r)
	}
	vs2, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	untrusted := trust
	untrusted.TrustedRoot = virtualRoot(t, vs2)
	if r = one(t, tl.check(t, untrusted)); !errors.Is(r.Err, ErrUntrusted) {
		t.Fatalf("another root: %+v", r)
	}
	// A key alone does not trust a keyless signature.
	_, pub := newKey(t, t.TempDir(), "cosign.pub")
	if r = one(t, tl.check(t, Trust{Keys: []string{pub}})); !errors.Is(r.Err, ErrUntrusted) {
		t.Fatalf("key only: %+v", r)
	}

	// The certificate lives 10 minutes; Rekor saw the signature after 20.
	late := newTestLayout(t)
	late.putBundle(t, virtualBundle(t, vs, id, issuer, late.subject.Digest, time.Now().Add(20*time.Minute)))
	if r = one(t, late.check(t, trust)); !errors.Is(r.Err, ErrExpired) {
		t.Fatalf("expired: %+v", r)
	}
}

// TestSigstoreRealBundleOffline: a real keyless bundle made by the
// public-good Sigstore instance (sigstore-go's own test data: sigstore-js
// 2.0.0's provenance, its Rekor entry and SCT) verifies offline against
// the public-good trusted root with the workflow identity; another
// identity is ErrIdentity; another artifact is ErrInvalid.
func TestSigstoreRealBundleOffline(t *testing.T) {
	data, err := os.ReadFile("testdata/sigstore-go/sigstore.js@2.0.0-provenance.sigstore.json")
	if err != nil {
		t.Fatal(err)
	}
	const (
		id     = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
		issuer = "https://token.actions.githubusercontent.com"
		npm    = digest.Digest("sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c")
	)
	trust := Trust{TrustedRoot: "testdata/sigstore-go/public-good.json", CertificateIdentity: id, CertOIDCIssuer: issuer}
	st, err := loadSigstoreTrust(trust)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := verifyBundle(data, npm, st)
	if err != nil || signer != id {
		t.Fatalf("real bundle: %q, %v", signer, err)
	}
	trust.CertificateIdentity = "https://github.com/someone/else/.github/workflows/release.yml@refs/heads/main"
	if st, err = loadSigstoreTrust(trust); err != nil {
		t.Fatal(err)
	}
	if _, err = verifyBundle(data, npm, st); !errors.Is(err, ErrIdentity) {
		t.Fatalf("wrong identity: %v", err)
	}
	if _, err = verifyBundle(data, digest.FromString("x"), st); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another artifact: %v", err)
	}
}
